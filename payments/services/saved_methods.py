"""A customer's saved Stripe methods: start saving one, make one default, remove one.

These services call Stripe, so none of them runs inside a database transaction; each Stripe
call carries an idempotency key derived from the client's Idempotency-Key when it sent one.
"""

import hashlib
import uuid

from django.http import Http404
from djstripe.models import Customer, PaymentMethod

from gamarriando.errors import PaymentMethodError, field_error
from gamarriando.logging import get_logger
from payments import saved_selectors
from payments.gateways.base import GatewayRetryableError
from payments.gateways.registry import get_gateway
from payments.stripe import saved_methods as stripe_saved

logger = get_logger(__name__)


STRIPE_KEY_MAX = 255  # Stripe refuses longer idempotency keys


def _key(user, action: str, client_key: str | None) -> str:
    """Derive Stripe's idempotency key: a client's retry with its key repeats nothing at Stripe."""
    key = f"{action}-user-{user.pk}-{client_key or uuid.uuid4().hex}"
    if len(key) > STRIPE_KEY_MAX:  # a long client key (ours allow 255) is digested, not cut
        key = f"{action}-user-{user.pk}-sha256-{hashlib.sha256(client_key.encode()).hexdigest()}"
    return key


def saved_method_setup_intent(*, user, client_key: str | None = None) -> dict:
    """Create a SetupIntent for the user's Customer (created on first use); return its secret.

    Raises:
        PaymentMethodError: Stripe is not enabled here.
        StripeCallFailed: Stripe failed or refused.
    """
    gateway = get_gateway("stripe")
    try:
        customer_id = gateway.customer_for(user)
    except GatewayRetryableError as exc:
        raise stripe_saved.StripeCallFailed() from exc
    setup_intent = stripe_saved.setup_intent_create(
        customer_id=customer_id, idempotency_key=_key(user, "setup-intent", client_key)
    )
    logger.info("setup_intent_created", user_id=user.pk, setup_intent_id=setup_intent["id"])
    return {"id": setup_intent["id"], "client_secret": setup_intent["client_secret"]}


def _own_method(user, method_id: int) -> PaymentMethod:
    # Not the caller's is 404 whatever the configuration; Stripe being off is asked after.
    payment_method = saved_selectors.saved_method_of(user, method_id)
    if payment_method is None:
        raise Http404("No such saved payment method.")
    get_gateway("stripe")
    return payment_method


def saved_method_make_default(
    *, user, method_id: int, client_key: str | None = None
) -> PaymentMethod:
    """Make one of the user's saved methods the Customer's default at Stripe.

    Raises:
        Http404: no such method among the user's own.
        StripeCallFailed: Stripe failed or refused.
    """
    payment_method = _own_method(user, method_id)
    stripe_saved.customer_default_set(
        customer_id=payment_method.customer_id,
        stripe_id=payment_method.id,
        idempotency_key=_key(user, f"default-{payment_method.id}", client_key),
    )
    return payment_method


def saved_method_remove(*, user, method_id: int) -> None:
    """Detach one of the user's saved methods at Stripe; it leaves the list at once.

    Raises:
        Http404: no such method among the user's own.
        StripeCallFailed: Stripe failed or refused.
    """
    payment_method = _own_method(user, method_id)
    # Detaching twice is harmless, so one key per method is right for every retry.
    stripe_saved.payment_method_detach(
        stripe_id=payment_method.id, idempotency_key=f"detach-{payment_method.id}"
    )
    # Stripe clears a detached default itself; the mirror follows without waiting for a webhook.
    Customer.objects.filter(default_payment_method=payment_method.id).update(
        default_payment_method=None
    )
    logger.info("saved_method_removed", user_id=user.pk, payment_method_id=payment_method.id)


def saved_method_for_payment(*, user, saved_payment_method_id) -> PaymentMethod:
    """Return the saved method a payment asks for ("default" or an id), checked usable.

    Raises:
        ValidationFailed: no such method among the user's own, or no default.
        PaymentMethodError: the card has expired.
    """
    if saved_payment_method_id == saved_selectors.DEFAULT:
        payment_method = saved_selectors.default_saved_method_of(user)
        missing = "You have no default saved payment method."
    else:
        payment_method = saved_selectors.saved_method_of(user, int(saved_payment_method_id))
        missing = "No such saved payment method."
    if payment_method is None:
        raise field_error("saved_payment_method_id", missing)
    if saved_selectors.is_expired(payment_method):
        raise PaymentMethodError(
            "This saved card has expired; use another card.",
            details={"saved_payment_method_id": payment_method.djstripe_id},
        )
    return payment_method
