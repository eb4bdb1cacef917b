"""ApplicationError and the one exception handler that renders the contract's envelope."""

import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import RedisError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthFailed
from rest_framework_simplejwt.exceptions import InvalidToken

from gamarriando.logging import get_logger

logger = get_logger(__name__)


class ApplicationError(Exception):
    """A business error with a stable code from the contract."""

    code = "INTERNAL_ERROR"
    http_status = 500
    message = "An unexpected error occurred."
    retry_after: float | None = None  # seconds, sent as Retry-After when set
    www_authenticate: str | None = None  # the WWW-Authenticate header of a 401, when set

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict | None = None,
        retry_after: float | None = None,
    ):
        self.message = message or self.message
        self.details = details or {}
        if retry_after is not None:
            self.retry_after = retry_after
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    code = "VALIDATION_ERROR"
    http_status = 400
    message = "The request is invalid."


class UnsupportedCharset(ApplicationError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415
    message = "A JSON body must be encoded in UTF-8."


class UnsupportedMediaType(ApplicationError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415
    message = "The body must be JSON (Content-Type: application/json)."


class CardDataNotAllowed(ApplicationError):
    code = "CARD_DATA_NOT_ALLOWED"
    http_status = 400
    message = "Raw card data is not accepted; send a gateway token instead."


class PaymentMethodError(ApplicationError):
    code = "PAYMENT_METHOD_ERROR"
    http_status = 400
    message = "The payment method is not usable."


class AmountMismatch(ApplicationError):
    code = "AMOUNT_MISMATCH"
    http_status = 400
    message = "The amount does not fit the order's balance."


class SecondFactorRequired(ApplicationError):
    # RFC 9470's step-up answer: a 401 whose token is valid but was signed in too weakly.
    code = "NOT_AUTHENTICATED"
    http_status = 401
    message = "Sign in again with your one-time code (otp_code) to do this."
    www_authenticate = 'Bearer realm="api", error="insufficient_user_authentication"'


class PermissionDeniedError(ApplicationError):
    code = "PERMISSION_DENIED"
    http_status = 403
    message = "You may not do this."


class InvalidStatus(ApplicationError):
    code = "INVALID_STATUS"
    http_status = 409
    message = "The current status does not allow this."


class AlreadyRefunded(ApplicationError):
    code = "ALREADY_REFUNDED"
    http_status = 409
    message = "The payment is already refunded."


class RefundExceedsRefundable(ApplicationError):
    code = "REFUND_EXCEEDS_REFUNDABLE"
    http_status = 409
    message = "The amount exceeds what is still refundable."


class RefundNotEligible(ApplicationError):
    code = "REFUND_NOT_ELIGIBLE"
    http_status = 409
    message = "This payment cannot be refunded by you."


class OutOfStock(ApplicationError):
    code = "OUT_OF_STOCK"
    http_status = 409
    message = "Not enough stock."


class PriceChanged(ApplicationError):
    code = "PRICE_CHANGED"
    http_status = 409
    message = "The price has changed."


class IdempotencyKeyInUse(ApplicationError):
    code = "IDEMPOTENCY_KEY_IN_USE"
    http_status = 409
    message = "A request with this Idempotency-Key is still running."


class IdempotencyKeyReused(ApplicationError):
    code = "IDEMPOTENCY_KEY_REUSED"
    http_status = 422
    message = "This Idempotency-Key was used for a different request."


class LimitExceeded(ApplicationError):
    code = "LIMIT_EXCEEDED"
    http_status = 429
    message = "A business limit was reached."


class ServiceUnavailable(ApplicationError):
    code = "SERVICE_UNAVAILABLE"
    http_status = 503
    message = "A backing service is unavailable; try again shortly."
    retry_after = 5


class GatewayNotConfigured(ApplicationError):
    code = "GATEWAY_NOT_CONFIGURED"
    http_status = 503
    message = "This gateway is not configured."


class WalletBusy(ApplicationError):
    code = "WALLET_BUSY"
    http_status = 409
    message = "The wallet changed too many times in a row; try again."
    retry_after = 1


class InsufficientFunds(ApplicationError):
    code = "INSUFFICIENT_FUNDS"
    http_status = 402
    message = "Not enough funds."


def invalid_status(current: str, message: str | None = None) -> ApplicationError:
    """Build an INVALID_STATUS error that names the current status."""
    return InvalidStatus(message, details={"status": current})


def field_error(field: str, message: str) -> ApplicationError:
    """Build a VALIDATION_ERROR for one field."""
    return ValidationFailed(details={field: [message]})


def error_body(code: str, message: str, details: dict | None, request_id: str | None) -> dict:
    """Return the contract's error envelope."""
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": request_id or "",
        }
    }


def _message(detail) -> str:
    """Return a DRF error's text: a dict's "detail" (simplejwt's shape), a list's first item."""
    if isinstance(detail, dict):
        detail = detail.get("detail", next(iter(detail.values()), ""))
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
    return str(detail)


def _flatten_details(detail):
    if isinstance(detail, dict):
        return {str(k): _flatten_details(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten_details(v) for v in detail]
    return str(detail)


# A backing service that went away (database connection dropped, Redis or the broker
# unreachable) is a 503 the client may retry with the same Idempotency-Key, not a 500.
BACKING_SERVICE_ERRORS = (
    DatabaseOperationalError,
    DatabaseInterfaceError,
    RedisError,
    BrokerOperationalError,
)

DRF_CODES = [
    (InvalidToken, "NOT_AUTHENTICATED", 401),
    (JWTAuthFailed, "NOT_AUTHENTICATED", 401),
    (exceptions.NotAuthenticated, "NOT_AUTHENTICATED", 401),
    (exceptions.AuthenticationFailed, "NOT_AUTHENTICATED", 401),
    (exceptions.PermissionDenied, "PERMISSION_DENIED", 403),
    (exceptions.NotFound, "NOT_FOUND", 404),
    (exceptions.MethodNotAllowed, "METHOD_NOT_ALLOWED", 405),
    (exceptions.NotAcceptable, "NOT_ACCEPTABLE", 406),
    (exceptions.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", 415),
    (exceptions.Throttled, "RATE_LIMITED", 429),
    (exceptions.ParseError, "VALIDATION_ERROR", 400),
    (exceptions.ValidationError, "VALIDATION_ERROR", 400),
]


def api_exception_handler(exc, context):
    """Render every error raised under /api/v1 as the contract's envelope."""
    request = context.get("request")
    request_id = getattr(request, "request_id", None)
    headers = {}
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, BACKING_SERVICE_ERRORS):
        logger.warning(
            "backing_service_unavailable", exc_type=type(exc).__name__, error=str(exc)[:200]
        )
        exc = ServiceUnavailable()

    if isinstance(exc, ApplicationError):
        body = error_body(exc.code, exc.message, exc.details, request_id)
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        if exc.www_authenticate is not None:
            headers["WWW-Authenticate"] = exc.www_authenticate
        return Response(body, status=exc.http_status, headers=headers)

    for exc_class, code, http_status in DRF_CODES:
        if isinstance(exc, exc_class):
            details = {}
            if isinstance(exc, exceptions.ValidationError):
                message = "The request is invalid."
                details = _flatten_details(exc.detail)
                if not isinstance(details, dict):
                    details = {"non_field_errors": details}
            elif isinstance(exc, exceptions.Throttled):
                message = "Too many requests."
                if exc.wait is not None:
                    wait = max(1, int(exc.wait + 0.999))
                    headers["Retry-After"] = str(wait)
                    details = {"retry_after": wait}
            else:
                message = _message(exc.detail)
            if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
                headers["WWW-Authenticate"] = 'Bearer realm="api"'
            return Response(
                error_body(code, message, details, request_id), status=http_status, headers=headers
            )

    if isinstance(exc, exceptions.APIException):
        return Response(
            error_body("INTERNAL_ERROR", str(exc.detail), {}, request_id), status=exc.status_code
        )

    logger.exception("unhandled_error", exc_type=type(exc).__name__)
    return Response(
        error_body("INTERNAL_ERROR", "An unexpected error occurred.", {}, request_id),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
