"""Who may move money or change a payment: checked inside the services, for every caller."""

from enum import StrEnum

from gamarriando.errors import PermissionDeniedError


class PaymentPermission(StrEnum):
    REFUND = "payments.refund_payment"
    CAPTURE = "payments.capture_payment"  # also voids and cancels staff-side
    RECORD_OFFLINE = "transactions.add_transaction"


def require_permission(actor, permission: PaymentPermission, message: str) -> None:
    """Raise unless the actor holds the permission.

    Raises:
        PermissionDeniedError: the actor lacks it.
    """
    if not actor.has_perm(permission):
        raise PermissionDeniedError(message)


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
