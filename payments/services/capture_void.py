"""Capture an authorization in full or in part, or void it."""

from decimal import Decimal

from django.db import transaction

from gamarriando import money
from gamarriando.errors import field_error
from payments import rules
from payments.models import Payment
from payments.permissions import PaymentPermission, require_permission
from payments.services.amounts import checked_amount
from payments.services.ledger_core import lock_payment, open_operation
from transactions.models import Transaction, TransactionType


def payment_capture(
    *, payment_id: int, actor, amount: Decimal | None = None
) -> tuple[Payment, Transaction]:
    """Capture an authorized payment in full or in part; the rest of the hold is released.

    Raises:
        PermissionDeniedError: the actor may not capture.
        InvalidStatus: the payment is not authorized, or a capture or void is running.
        ValidationFailed: the amount is above what was authorized.
    """
    require_permission(actor, PaymentPermission.CAPTURE, "Only Finance may capture payments.")
    with transaction.atomic():
        order, payment = lock_payment(payment_id)
        rules.check_capturable(payment)
        capturable = rules.capturable_amount(payment)
        amount = capturable if amount is None else checked_amount(amount, payment.currency)
        if amount > capturable:
            raise field_error(
                "amount",
                f"At most {money.format_amount(capturable, payment.currency)} can be captured.",
            )
        txn = open_operation(
            payment, TransactionType.CAPTURE, amount, actor=actor, reason="captured"
        )
    return payment, txn


def open_void(payment: Payment, *, actor, reason: str = "") -> Transaction:
    """Release a locked, authorized payment's whole hold through a pending void row.

    Raises:
        InvalidStatus: the payment is not authorized, or a capture or void is running.
    """
    rules.check_voidable(payment)
    return open_operation(
        payment,
        TransactionType.VOID,
        payment.authorized_amount,
        actor=actor,
        reason=reason or "voided",
    )
