"""Who may move money or change a payment: checked inside the services, for every caller."""

from enum import StrEnum

from gamarriando.errors import PermissionDeniedError
from gamarriando.staff_auth.tokens import require_token_second_factor


class PaymentPermission(StrEnum):
    REFUND = "payments.refund_payment"
    CAPTURE = "payments.capture_payment"  # also voids and cancels staff-side
    RECORD_OFFLINE = "transactions.add_transaction"


def require_permission(actor, permission: PaymentPermission, message: str) -> None:
    """Raise unless the actor holds the permission, signed in as strongly as it asks.

    Raises:
        PermissionDeniedError: the actor lacks it.
        SecondFactorRequired: an API token issued without the one-time code the actor needs.
    """
    if not actor.has_perm(permission):
        raise PermissionDeniedError(message)
    # A token from a password-only sign-in before the actor joined Finance moves no money.
    require_token_second_factor(actor)


def require_owner(actor, owner_id: int) -> None:
    """Let only the customer who owns the order go on.

    Raises:
        PermissionDeniedError: the actor is someone else.
    """
    if owner_id != actor.pk:
        raise PermissionDeniedError("Only the customer who owns the order may do this.")


def require_owner_or_permission(
    actor, owner_id: int, permission: PaymentPermission, message: str
) -> None:
    """Let the customer who owns the order, or staff holding the permission, go on.

    Raises:
        PermissionDeniedError: neither the owner nor allowed.
    """
    if actor.is_staff:
        require_permission(actor, permission, message)
    else:
        require_owner(actor, owner_id)
