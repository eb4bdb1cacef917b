"""Request id, card-data guard, JSON errors outside DRF and one access-log line per request."""

import re
import time
import uuid

import structlog
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse

from gamarriando.cards import contains_card_number, find_card_data, is_card_number
from gamarriando.errors import (
    CardDataNotAllowed,
    UnsupportedCharset,
    UnsupportedMediaType,
    ValidationFailed,
    error_body,
)
from gamarriando.logging import get_logger
from gamarriando.parsers import (
    BodyRefused,
    MalformedBody,
    check_body_size,
    check_charset,
    check_json_media_type,
    loads_bounded,
)

logger = get_logger("gamarriando.request")
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")  # ASCII digits only: str.isdigit takes "²" too
API_PREFIX = "/api/"
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
IDEMPOTENCY_HEADER = "Idempotency-Key"


def is_api(request) -> bool:
    """Tell whether the request is one of the API's or the webhooks' (answered in JSON)."""
    return request.path.startswith(API_PREFIX) or request.path.startswith("/webhooks/")


class RequestIdMiddleware:
    """Give every request an id, bind it to the logs and echo it as X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        # An id holding a card number is replaced, never refused: echoed, it would go back and
        # on with events, while the logs redact it (no line could then be found by it).
        usable = REQUEST_ID_PATTERN.match(incoming) and not contains_card_number(incoming)
        request.request_id = incoming if usable else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request.request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class ApiErrorMiddleware:
    """Answer API 404s and crashes outside DRF with the envelope, never a traceback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            is_api(request)
            and response.status_code == 404
            and "json" not in response.get("Content-Type", "")
        ):
            return JsonResponse(
                error_body("NOT_FOUND", "Not found.", {}, request.request_id), status=404
            )
        return response

    def process_exception(self, request, exception):
        if not is_api(request):
            return None
        logger.exception("unhandled_error", path=request.path)
        return JsonResponse(
            error_body("INTERNAL_ERROR", "An unexpected error occurred.", {}, request.request_id),
            status=500,
        )


def _refusal(request, error, details: dict, message: str | None = None) -> JsonResponse:
    return JsonResponse(
        error_body(error.code, message or error.message, details, request.request_id),
        status=error.http_status,
    )


class CardDataGuardMiddleware:
    """Refuse API requests with card data in the Idempotency-Key, query or body, or past limits."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX):
            try:
                field = self._card_field(request)
            except (BodyRefused, MalformedBody, UnsupportedCharset, UnsupportedMediaType) as exc:
                return _refusal(request, exc, exc.details, exc.message)
            except TooManyFieldsSent:
                # Django's own answer would be its HTML 400 page, outside the envelope.
                limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
                details = {"query": [f"At most {limit} query parameters."]}
                return _refusal(request, ValidationFailed, details)
            if field:
                # The request is dropped here: it is never parsed, stored or logged.
                logger.warning("card_data_refused", field=field)
                return _refusal(request, CardDataNotAllowed, {"field": field})
        return self.get_response(request)

    @staticmethod
    def _card_field(request) -> str | None:
        """Name the header, query parameter or body field holding card data, or None.

        Raises:
            BodyRefused: the body is too large or nested too deeply to inspect, or its length
                is not a number.
            UnsupportedCharset: the body declares a charset other than UTF-8.
            UnsupportedMediaType: the body is not declared as JSON.
            MalformedBody: the body is not JSON.
        """
        length = str(request.META.get("CONTENT_LENGTH") or "0")
        if not CONTENT_LENGTH.fullmatch(length):  # the metrics middleware would crash on it
            raise BodyRefused("The Content-Length header is not a number.")
        # The idempotency layer stores the key (and logs name it): a card there is kept too.
        if is_card_number(request.headers.get(IDEMPOTENCY_HEADER, "")):
            return IDEMPOTENCY_HEADER
        found = find_card_data(dict(request.GET.lists()), "query")
        if found or request.method not in BODY_METHODS:
            return found
        if int(length):  # a body to read: JSON, in the one charset the parser reads too
            # Checked here, not only by the parser: a handler that never reads its body (a
            # DELETE, a POST without fields) would otherwise take a form or text unread.
            check_json_media_type(request.META.get("CONTENT_TYPE"))
            check_charset(request.META.get("CONTENT_TYPE"))
        try:
            check_body_size(int(length))
            body = loads_bounded(request.body or b"null")  # as the parser reads it
        except RequestDataTooBig as exc:
            raise BodyRefused("The body is too large.") from exc
        except ValueError as exc:
            raise MalformedBody(f"JSON parse error - {exc}") from exc
        return find_card_data(body)


ROUTE_IDS = {"order": "order_id", "payment": "payment_id", "transaction": "transaction_id"}


def _object_ids(request) -> dict:
    """Name the object a detail route acted on (order-detail -> order_id=...)."""
    match = getattr(request, "resolver_match", None)
    if match is None or "pk" not in match.kwargs or not match.url_name:
        return {}
    field = ROUTE_IDS.get(match.url_name.split("-")[0])
    return {field: match.kwargs["pk"]} if field else {}


class AccessLogMiddleware:
    """Write one structured line per request with its outcome and duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        user_id = getattr(request, "api_user_id", None) or (
            user.pk if user is not None and user.is_authenticated else None
        )
        logger.info(
            "request",
            method=request.method,
            # The path without its query: query values can hold tokens or card data.
            path=request.path,
            query_keys=sorted(request.GET.keys()),
            status=response.status_code,
            user_id=user_id,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            **_object_ids(request),
        )
        return response
