"""What Stripe's and PayPal's webhook views share: the refusal envelope and the body checks."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

from gamarriando.errors import ValidationFailed, error_body

RETRY_AFTER_SECONDS = 60  # a sender told 503 (not configured, gateway down) tries again later
ID_MAX_LENGTH = 255  # the stored event's primary key


def reject(request, message: str, error=ValidationFailed) -> JsonResponse:
    """Answer with the contract's envelope; the sender retries anything but 2xx."""
    response = JsonResponse(
        error_body(error.code, message, {}, getattr(request, "request_id", "")),
        status=error.http_status,
    )
    if error.http_status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def bounded_body(request) -> bytes | None:
    """Return the body, or None when it is larger than API_MAX_BODY_BYTES (never read then)."""
    length = str(request.META.get("CONTENT_LENGTH") or "0")
    if length.isascii() and length.isdigit() and int(length) > settings.API_MAX_BODY_BYTES:
        return None
    try:
        body = request.body
    except RequestDataTooBig:  # Django's own limit: its 400 page is not the envelope
        return None
    return body if len(body) <= settings.API_MAX_BODY_BYTES else None


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def storable(event_id: str, event: dict) -> bool:
    """Say whether an event fits its row: an id within the key's length, no NUL anywhere.

    PostgreSQL's jsonb cannot hold U+0000, so such an event would fail at every retry.
    """
    return 0 < len(event_id) <= ID_MAX_LENGTH and not _has_nul(event)
