"""structlog set-up: one JSON line per event, with secrets and card data redacted."""

import logging
import re

import structlog

from gamarriando.cards import REDACTED, contains_card_number, redact_card_numbers
from gamarriando.tracing import add_trace_ids

SECRET_KEY_PATTERN = re.compile(
    r"(authorization|password|secret|token|api[_-]?key|cvv|cvc|card[_-]?number|refresh|access)",
    re.IGNORECASE,
)
# Secrets with a recognisable shape, wherever they stand in free text (a message, a traceback).
SECRET_IN_TEXT = re.compile(
    r"eyJ[\w-]+\.[\w-]+\.[\w-]*"  # a JWT
    r"|(?<=Bearer )\S+"  # an Authorization header's credentials
    r"|\b(?:sk|rk|pk)_(?:live|test)_\w+|\bwhsec_[\w-]+",  # Stripe keys, webhook secrets
)
# Loggers whose message is a request line: its query string goes, values can be secrets.
REQUEST_LINE_LOGGERS = frozenset({"django.server", "django.request"})
QUERY_STRING = re.compile(r"\?[^\s\"]*")
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
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return value
    if contains_card_number(str(value)):
        return REDACTED
    return SECRET_IN_TEXT.sub(REDACTED, value) if isinstance(value, str) else value


def redact_text(text: str) -> str:
    """Blank out card numbers and shaped secrets inside free text, keeping the rest readable."""
    return SECRET_IN_TEXT.sub(REDACTED, redact_card_numbers(text))


def redact_processor(logger, method_name, event_dict):
    """Remove tokens, secrets, Authorization headers, card-like values and query strings."""
    if event_dict.get("logger") in REQUEST_LINE_LOGGERS and isinstance(
        event_dict.get("event"), str
    ):
        event_dict["event"] = QUERY_STRING.sub("", event_dict["event"])
    return {
        key: REDACTED if key != "event" and SECRET_KEY_PATTERN.search(key) else _redact(value)
        for key, value in event_dict.items()
    }


def redact_rendered_exception(logger, method_name, event_dict):
    """Redact the traceback text that format_exc_info rendered after redact_processor ran."""
    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = redact_text(event_dict[key])
    return event_dict


SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    add_trace_ids,
    redact_processor,
]


def json_formatter():
    """Build the stdlib formatter that renders every record as one JSON line."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_rendered_exception,
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
