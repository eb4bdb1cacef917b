"""Refunds: reserve the amount under the payment's lock, then hand it to a worker."""

from decimal import Decimal

from django.db import transaction

from gamarriando.errors import PermissionDeniedError, RefundNotEligible
from orders.models import OrderStatus
from payments import rules
from payments.models import Payment
from payments.permissions import PaymentPermission, require_owner
from payments.services.ledger_core import checked_amount, lock_payment, open_operation
from transactions.models import Transaction, TransactionType
from transactions.selectors import ledger_totals

REFUND_ELIGIBLE_ORDER = {OrderStatus.PAID, OrderStatus.PROCESSING}


def payment_refund(
    *, payment_id: int, actor, reason: str, amount: Decimal | None = None
) -> tuple[Payment, Transaction]:
    """Reserve a refund under the payment's lock and hand it to a worker.

    Finance may refund at any time; the owner only while the order is paid or processing.

    Raises:
        PermissionDeniedError: staff without payments.refund_payment.
        RefundNotEligible: the owner asks while the order is past processing.
        AlreadyRefunded: the payment is fully refunded.
        InvalidStatus: nothing was captured.
        RefundExceedsRefundable: the amount is above what is left to refund.
    """
    with transaction.atomic():
        order, payment = lock_payment(payment_id)
        if not actor.has_perm(PaymentPermission.REFUND):
            if actor.is_staff:
                raise PermissionDeniedError("Your role may not refund payments.")
            require_owner(actor, order.user_id)
            if order.status not in REFUND_ELIGIBLE_ORDER:
                raise RefundNotEligible(details={"order_status": order.status})
        totals = ledger_totals(payment.pk)
        if amount is not None:
            amount = checked_amount(amount, payment.currency)
        else:
            amount = rules.refundable(payment, totals)
        rules.check_refundable(payment, amount, totals)
        txn = open_operation(payment, TransactionType.REFUND, amount, actor=actor, reason=reason)
    return payment, txn
