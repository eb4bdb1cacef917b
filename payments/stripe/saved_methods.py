"""Saved payment methods at Stripe: SetupIntents, detach and the Customer's default.

Every call runs outside any database transaction with an idempotency key; what Stripe answers
is mirrored into dj-stripe's tables, which the API reads (webhooks keep them current too).
"""

import stripe
from django.conf import settings
from djstripe.models import Customer, PaymentMethod

from gamarriando.errors import ApplicationError
from payments.gateways.base import Gateway, GatewayResult, GatewayRetryableError
from payments.stripe.gateway import _call, secret_key


class StripeCallFailed(ApplicationError):
    """Stripe failed or refused a saved-method call we made (the contract's 502)."""

    code = "GATEWAY_ERROR"
    http_status = 502
    message = "Stripe did not complete the request. Try again later."


def _answer(function, **params) -> dict:
    """Make one SDK call and return its answer as a dict, or raise StripeCallFailed."""
    Gateway.assert_outside_transaction()
    try:
        answer = _call(function, **params)
    except GatewayRetryableError as exc:
        raise StripeCallFailed() from exc
    if isinstance(answer, GatewayResult):
        raise StripeCallFailed(details={"stripe_code": answer.failure_code})
    return answer.to_dict()


def setup_intent_create(*, customer_id: str, idempotency_key: str) -> dict:
    """Create a SetupIntent that saves a method for later payments without the buyer."""
    return _answer(
        stripe.SetupIntent.create,
        customer=customer_id,
        usage="off_session",
        payment_method_types=list(settings.STRIPE_PAYMENT_METHOD_TYPES),
        idempotency_key=idempotency_key,
    )


def payment_method_detach(*, stripe_id: str, idempotency_key: str) -> PaymentMethod:
    """Detach a method from its Customer at Stripe and mirror the answer."""
    try:
        answer = _answer(
            stripe.PaymentMethod.detach, payment_method=stripe_id, idempotency_key=idempotency_key
        )
    except StripeCallFailed:
        # Already detached (the Dashboard, another tab): Stripe's current copy is the truth.
        answer = _answer(stripe.PaymentMethod.retrieve, id=stripe_id)
        if answer.get("customer"):
            raise
    return PaymentMethod.sync_from_stripe_data(answer, api_key=secret_key())


def customer_default_set(*, customer_id: str, stripe_id: str, idempotency_key: str) -> Customer:
    """Make a method the Customer's default at Stripe and mirror the Customer."""
    answer = _answer(
        stripe.Customer.modify,
        id=customer_id,
        invoice_settings={"default_payment_method": stripe_id},
        idempotency_key=idempotency_key,
    )
    return Customer.sync_from_stripe_data(answer, api_key=secret_key())
