"""structlog set-up: one JSON line per event, with secrets and card data redacted."""

import logging
import re

import structlog

from gamarriando.cards import contains_card_number

SECRET_KEY_PATTERN = re.compile(
    r"(authorization|password|secret|token|api[_-]?key|cvv|cvc|card[_-]?number|refresh|access)",
    re.IGNORECASE,
)
REDACTED = "[REDACTED]"
# Ids we generate ourselves; random hex can look like digits, never like a card holder's data.
SAFE_KEYS = frozenset({"request_id", "event_id", "task_id", "idempotency_key"})


def _redact(value, depth=0):
    if depth > 8:
        return REDACTED
    if isinstance(value, dict):
        return {
            k: REDACTED if SECRET_KEY_PATTERN.search(str(k)) else _redact(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact(v, depth + 1) for v in value]
    if (
        isinstance(value, (str, int))
        and not isinstance(value, bool)
        and contains_card_number(str(value))
    ):
        return REDACTED
    return value


def redact_processor(logger, method_name, event_dict):
    """Remove tokens, secrets, Authorization headers and card-like values."""
    return {
        key: REDACTED if key != "event" and SECRET_KEY_PATTERN.search(key) else _redact(value)
        for key, value in event_dict.items()
    }


SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    redact_processor,
]


def json_formatter():
    """Build the stdlib formatter that renders every record as one JSON line."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )


def configure_structlog():
    """Route structlog through the stdlib handlers configured in settings.LOGGING."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str):
    """Return a structlog logger bound to a module name."""
    return structlog.get_logger(name)


logging.captureWarnings(True)
