"""Reads of a customer's saved Stripe payment methods, from dj-stripe's mirror."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from djstripe.models import Customer, PaymentMethod

DEFAULT = "default"  # what process accepts as saved_payment_method_id for the default method


@dataclass(frozen=True)
class SavedMethod:
    """What the storefront and the admin may see of a saved method: no card data beyond these."""

    id: int
    stripe_id: str
    type: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    wallet: str | None
    is_default: bool
    expired: bool
    created_at: datetime | None


def stripe_customer_of(user) -> Customer | None:
    """Return the user's mirrored Stripe Customer in the current mode, if any."""
    return Customer.objects.filter(subscriber=user, livemode=settings.STRIPE_LIVE_MODE).first()


def saved_methods_queryset(user) -> QuerySet[PaymentMethod]:
    """Return the methods attached to the user's Customer in the current mode."""
    return PaymentMethod.objects.filter(
        customer__subscriber=user, customer__livemode=settings.STRIPE_LIVE_MODE
    ).select_related("customer")


def is_expired(payment_method: PaymentMethod, now: datetime | None = None) -> bool:
    """Say whether a card is past its expiry month (it is good through the month's last day)."""
    card = payment_method.stripe_data.get("card") or {}
    if not card.get("exp_year") or not card.get("exp_month"):
        return False
    now = now or timezone.now()
    return (int(card["exp_year"]), int(card["exp_month"])) < (now.year, now.month)


def describe(payment_method: PaymentMethod, default_stripe_id: str | None) -> SavedMethod:
    """Describe one mirrored method for the API and the admin."""
    card = payment_method.stripe_data.get("card") or {}
    return SavedMethod(
        id=payment_method.djstripe_id,
        stripe_id=payment_method.id,
        type=payment_method.type or "",
        brand=card.get("brand"),
        last4=card.get("last4"),
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
        wallet=((card.get("wallet") or {}).get("type")) or None,
        is_default=bool(default_stripe_id) and payment_method.id == default_stripe_id,
        expired=is_expired(payment_method),
        created_at=payment_method.created,
    )


def saved_methods_of(user) -> list[SavedMethod]:
    """List the user's saved methods, newest first."""
    customer = stripe_customer_of(user)
    if customer is None:
        return []
    methods = saved_methods_queryset(user).order_by("-created", "-djstripe_id")
    return [describe(pm, customer.default_payment_method_id) for pm in methods]


def saved_method_of(user, method_id: int) -> PaymentMethod | None:
    """Return one of the user's saved methods by our integer id; None for anyone else's."""
    return saved_methods_queryset(user).filter(djstripe_id=method_id).first()


def default_saved_method_of(user) -> PaymentMethod | None:
    """Return the method the user's Customer has as default, if it is still attached."""
    customer = stripe_customer_of(user)
    if customer is None or not customer.default_payment_method_id:
        return None
    return saved_methods_queryset(user).filter(id=customer.default_payment_method_id).first()


def wallet_of_saved(payment_method: PaymentMethod) -> str | None:
    """Return the wallet type a saved card came from (apple_pay, google_pay), if any."""
    card = payment_method.stripe_data.get("card") or {}
    return (card.get("wallet") or {}).get("type") or None
