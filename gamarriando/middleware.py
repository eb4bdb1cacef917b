"""Request id, card-data guard, JSON errors outside DRF and one access-log line per request."""

import json
import re
import time
import uuid

import structlog
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

from gamarriando.cards import find_card_data
from gamarriando.errors import CardDataNotAllowed, error_body
from gamarriando.logging import get_logger

logger = get_logger("gamarriando.request")
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX) or request.path.startswith("/webhooks/")


class RequestIdMiddleware:
    """Give every request an id, bind it to the logs and echo it as X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
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
            _is_api(request)
            and response.status_code == 404
            and "json" not in response.get("Content-Type", "")
        ):
            return JsonResponse(
                error_body("NOT_FOUND", "Not found.", {}, request.request_id), status=404
            )
        return response

    def process_exception(self, request, exception):
        if not _is_api(request):
            return None
        logger.exception("unhandled_error", path=request.path)
        return JsonResponse(
            error_body("INTERNAL_ERROR", "An unexpected error occurred.", {}, request.request_id),
            status=500,
        )


class CardDataGuardMiddleware:
    """Refuse any API body that carries a raw card number or a CVV-like field."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX) and request.method in ("POST", "PUT", "PATCH"):
            field = self._card_field(request)
            if field:
                # The body is dropped here: it is never parsed, stored or logged.
                logger.warning("card_data_refused", field=field)
                return JsonResponse(
                    error_body(
                        CardDataNotAllowed.code,
                        CardDataNotAllowed.message,
                        {"field": field},
                        request.request_id,
                    ),
                    status=CardDataNotAllowed.http_status,
                )
        return self.get_response(request)

    @staticmethod
    def _card_field(request):
        try:
            body = json.loads(request.body or b"null")
        except RequestDataTooBig:
            return "body"  # too big to inspect is too big to accept
        except (ValueError, UnicodeDecodeError):
            return None  # malformed JSON is the parser's to refuse
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
            path=request.path,
            status=response.status_code,
            user_id=user_id,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            **_object_ids(request),
        )
        return response
