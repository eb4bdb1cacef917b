"""Stripe through the official SDK: PaymentIntents, captures, cancels and refunds.

Every call carries our idempotency key, so repeating a call after a timeout returns
Stripe's first answer instead of acting twice. Amounts cross this edge in minor units.
"""

from decimal import Decimal

import stripe
from django.conf import settings

from gamarriando.money import CURRENCY_EXPONENTS, from_minor_units, to_minor_units
from payments.gateways.base import (
    FailureCode,
    Gateway,
    GatewayResult,
    GatewayStatus,
    GatewayTimeout,
    GatewayUnavailable,
    InvalidPaymentToken,
)

PI_STATUS = {
    "succeeded": GatewayStatus.SUCCEEDED,
    "requires_capture": GatewayStatus.SUCCEEDED,  # authorized: the authorization row succeeded
    "requires_action": GatewayStatus.REQUIRES_ACTION,
    "requires_confirmation": GatewayStatus.REQUIRES_ACTION,
    "processing": GatewayStatus.PENDING,
    "requires_payment_method": GatewayStatus.FAILED,
    "canceled": GatewayStatus.FAILED,
}
REFUND_STATUS = {
    "succeeded": GatewayStatus.SUCCEEDED,
    "pending": GatewayStatus.PENDING,
    "requires_action": GatewayStatus.PENDING,
    "failed": GatewayStatus.FAILED,
    "canceled": GatewayStatus.FAILED,
}
SAFE_PI_FIELDS = (
    "id",
    "object",
    "status",
    "amount",
    "amount_received",
    "amount_capturable",
    "currency",
    "capture_method",
    "latest_charge",
    "created",
    "livemode",
)


def secret_key() -> str:
    """Return the configured secret key for the current mode ("" when unset)."""
    return (
        settings.STRIPE_LIVE_SECRET_KEY
        if settings.STRIPE_LIVE_MODE
        else settings.STRIPE_TEST_SECRET_KEY
    )


def _safe(obj) -> dict:
    """Keep what staff need; never the client secret or payment method details."""
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return {key: data.get(key) for key in SAFE_PI_FIELDS if key in data}


def _failure_code(
    code: str | None, decline_code: str | None, default: str = FailureCode.CARD_DECLINED
) -> str:
    """Map Stripe's code and decline_code to the contract's failure codes."""
    if decline_code == "insufficient_funds":
        return FailureCode.INSUFFICIENT_FUNDS
    return code or default


def _call(function, **params):
    """Make one SDK call, sorting its errors into declined, unavailable and unknown."""
    try:
        return function(api_key=secret_key(), stripe_version=settings.STRIPE_API_VERSION, **params)
    except stripe.CardError as exc:
        error = exc.error
        code = _failure_code(error.code, getattr(error, "decline_code", None))
        pi = getattr(error, "payment_intent", None)
        return GatewayResult(
            status=GatewayStatus.FAILED,
            reference=(pi or {}).get("id", ""),
            failure_code=code,
            failure_message=error.message or "",
            raw={"error": code},
        )
    except stripe.APIConnectionError as exc:
        raise GatewayTimeout(str(exc)) from exc  # the request may have reached Stripe
    except (stripe.RateLimitError, stripe.APIError) as exc:
        raise GatewayUnavailable(str(exc)) from exc
    except stripe.InvalidRequestError as exc:
        code = exc.code or "invalid_request"
        return GatewayResult(
            status=GatewayStatus.FAILED,
            failure_code=code,
            failure_message=str(exc.user_message or exc)[:255],
            raw={"error": code},
        )
    except stripe.StripeError as exc:
        raise GatewayUnavailable(str(exc)) from exc


def wallet_of(payment_method) -> str:
    """Return a PaymentMethod's wallet type (apple_pay, google_pay, ...), or "" for a plain card."""
    if payment_method is None or isinstance(payment_method, str):
        return ""  # not expanded: only an id
    if hasattr(payment_method, "to_dict"):
        payment_method = payment_method.to_dict()
    return ((payment_method.get("card") or {}).get("wallet") or {}).get("type") or ""


def result_from_payment_intent(pi) -> GatewayResult:
    status = PI_STATUS.get(pi["status"], GatewayStatus.PENDING)
    next_action = None
    if status == GatewayStatus.REQUIRES_ACTION:
        action = pi.get("next_action")
        next_action = {
            "type": (action or {}).get("type", "use_stripe_sdk"),
            "client_secret": pi.get("client_secret"),
            "payment_intent": pi["id"],
        }
    error = pi.get("last_payment_error") or {}
    code = ""
    if status == GatewayStatus.FAILED:
        default = FailureCode.CANCELED if pi["status"] == "canceled" else FailureCode.CARD_DECLINED
        code = _failure_code(error.get("code"), error.get("decline_code"), default)
    return GatewayResult(
        status=status,
        reference=pi["id"],
        failure_code=code,
        failure_message=error.get("message", ""),
        next_action=next_action,
        raw=_safe(pi),
        wallet=wallet_of(pi.get("payment_method")),
    )


def result_from_refund(refund) -> GatewayResult:
    return GatewayResult(
        status=REFUND_STATUS.get(refund["status"], GatewayStatus.PENDING),
        reference=refund["id"],
        failure_code=refund.get("failure_reason") or "" if refund["status"] == "failed" else "",
        raw={
            "id": refund["id"],
            "object": "refund",
            "status": refund["status"],
            "amount": refund["amount"],
        },
    )


class StripeGateway(Gateway):
    """Stripe PaymentIntents with automatic or manual capture."""

    name = "stripe"
    currencies = tuple(CURRENCY_EXPONENTS)

    def validate_token(self, token: str) -> None:
        # The storefront confirms card details with Stripe.js and sends us only a pm_ id.
        if not token.startswith("pm_") or len(token) > 255:
            raise InvalidPaymentToken("Send a Stripe PaymentMethod id (pm_...).")

    def charge(
        self,
        *,
        token,
        amount,
        currency,
        capture,
        idempotency_key,
        return_url="",
        metadata=None,
        customer=None,
        save_payment_method=False,
    ):
        self.assert_outside_transaction()
        customer = self.customer_for(customer) if customer is not None else ""
        params = {
            "amount": to_minor_units(amount, currency),
            "currency": currency.lower(),
            "payment_method": token,
            "confirm": True,
            "capture_method": "automatic" if capture else "manual",
            "metadata": {k: str(v) for k, v in (metadata or {}).items()},
            "idempotency_key": idempotency_key,
            # Expanded only to read its wallet type; _safe() keeps card details out of our rows.
            "expand": ["payment_method"],
        }
        if customer:
            params["customer"] = customer
        if save_payment_method:
            params["setup_future_usage"] = "off_session"
        if return_url:
            params["return_url"] = return_url
        else:
            # Card includes its wallets: Apple Pay and Google Pay pay as card PaymentMethods.
            params["payment_method_types"] = list(settings.STRIPE_PAYMENT_METHOD_TYPES)
        answer = _call(stripe.PaymentIntent.create, **params)
        return answer if isinstance(answer, GatewayResult) else result_from_payment_intent(answer)

    def capture(self, *, reference, amount, currency, idempotency_key):
        self.assert_outside_transaction()
        answer = _call(
            stripe.PaymentIntent.capture,
            intent=reference,
            amount_to_capture=to_minor_units(amount, currency),
            idempotency_key=idempotency_key,
        )
        return answer if isinstance(answer, GatewayResult) else result_from_payment_intent(answer)

    def void(self, *, reference, idempotency_key):
        self.assert_outside_transaction()
        answer = _call(
            stripe.PaymentIntent.cancel, intent=reference, idempotency_key=idempotency_key
        )
        if isinstance(answer, GatewayResult):
            return answer
        return GatewayResult(
            status=GatewayStatus.SUCCEEDED
            if answer["status"] == "canceled"
            else GatewayStatus.FAILED,
            reference=f"{answer['id']}:void",
            raw=_safe(answer),
        )

    abandons_attempts = True

    def abandon(self, *, reference, idempotency_key):
        """Cancel a PaymentIntent that waits for the buyer; if Stripe refuses, report its state."""
        self.assert_outside_transaction()
        answer = _call(
            stripe.PaymentIntent.cancel, intent=reference, idempotency_key=idempotency_key
        )
        if not isinstance(answer, GatewayResult):
            return result_from_payment_intent(answer)
        # Refused (payment_intent_unexpected_state): the buyer finished first, and what the
        # PaymentIntent did is the truth to record (a success on a cancelled order is refunded).
        return self.retrieve(operation="charge", idempotency_key="", reference=reference)

    def refund(self, *, reference, amount, currency, idempotency_key, metadata=None):
        self.assert_outside_transaction()
        answer = _call(
            stripe.Refund.create,
            payment_intent=reference,
            amount=to_minor_units(amount, currency),
            metadata={k: str(v) for k, v in (metadata or {}).items()},
            idempotency_key=idempotency_key,
        )
        return answer if isinstance(answer, GatewayResult) else result_from_refund(answer)

    def retrieve(self, *, operation, idempotency_key, reference=""):
        """Stripe has no lookup by idempotency key; a reference is read, a lost create is asked for again."""
        self.assert_outside_transaction()
        if operation in ("charge", "authorization") and reference:
            answer = _call(stripe.PaymentIntent.retrieve, id=reference, expand=["payment_method"])
            return (
                answer if isinstance(answer, GatewayResult) else result_from_payment_intent(answer)
            )
        if operation == "refund" and reference:
            answer = _call(stripe.Refund.retrieve, id=reference)
            return answer if isinstance(answer, GatewayResult) else result_from_refund(answer)
        return None  # the caller re-sends the operation with the same key; Stripe replays it

    # -- reads used by webhook reconciliation ----------------------------------

    def payment_intent(self, pi_id: str) -> dict:
        """Fetch a PaymentIntent as a plain dict."""
        self.assert_outside_transaction()
        # Expanded for its wallet type, as on create: a buyer who finished 3-D Secure paid by Apple Pay.
        answer = _call(stripe.PaymentIntent.retrieve, id=pi_id, expand=["payment_method"])
        if isinstance(answer, GatewayResult):
            raise GatewayUnavailable(f"PaymentIntent {pi_id}: {answer.failure_code}")
        return answer.to_dict()

    def refunds_of(self, pi_id: str) -> list[dict]:
        """List every refund of a PaymentIntent, as plain dicts."""
        self.assert_outside_transaction()
        answer = _call(stripe.Refund.list, payment_intent=pi_id, limit=100)
        if isinstance(answer, GatewayResult):
            raise GatewayUnavailable(f"refunds of {pi_id}: {answer.failure_code}")
        return [refund.to_dict() for refund in answer.auto_paging_iter()]

    def dispute(self, dispute_id: str) -> dict | None:
        """Fetch a Dispute as a plain dict; None when Stripe has no such dispute."""
        self.assert_outside_transaction()
        answer = _call(stripe.Dispute.retrieve, id=dispute_id)
        if isinstance(answer, GatewayResult):
            if answer.failure_code == FailureCode.RESOURCE_MISSING:
                return None
            raise GatewayUnavailable(f"Dispute {dispute_id}: {answer.failure_code}")
        return answer.to_dict()

    def payment_intents_since(self, created_gte: int):
        """Yield, as plain dicts, every PaymentIntent created at or after a Unix time."""
        self.assert_outside_transaction()
        answer = _call(
            stripe.PaymentIntent.list,
            created={"gte": created_gte},
            limit=100,
            expand=["data.payment_method"],
        )
        if isinstance(answer, GatewayResult):
            raise GatewayUnavailable(f"PaymentIntents since {created_gte}: {answer.failure_code}")
        for payment_intent in answer.auto_paging_iter():
            yield payment_intent.to_dict()

    def customer_for(self, user) -> str:
        """Return the Stripe Customer id of a user, creating and mirroring it once."""
        from djstripe.models import Customer

        mine = Customer.objects.filter(livemode=settings.STRIPE_LIVE_MODE)
        existing = mine.filter(subscriber=user, date_purged__isnull=True).first()
        if existing is not None:
            return existing.id
        # A Customer deleted in the Dashboard is purged (dj-stripe unlinks it): the next one
        # needs a key of its own, or Stripe would replay the deleted one's creation for 24 h.
        deleted = (
            mine.filter(metadata__user_id=str(user.pk), date_purged__isnull=False)
            .order_by("-djstripe_id")
            .first()
        )
        key = f"customer-user-{user.pk}" + (f"-after-{deleted.id}" if deleted else "")
        answer = _call(
            stripe.Customer.create,
            email=user.email,
            metadata={"user_id": str(user.pk)},
            idempotency_key=key,
        )
        if isinstance(answer, GatewayResult):
            raise GatewayUnavailable(f"customer for user {user.pk}: {answer.failure_code}")
        customer = Customer.sync_from_stripe_data(answer, api_key=secret_key())
        Customer.objects.filter(pk=customer.pk).update(subscriber=user)
        return customer.id

    @staticmethod
    def minor_to_amount(value: int, currency: str) -> Decimal:
        return from_minor_units(value, currency.upper())
