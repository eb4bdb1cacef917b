"""Give back what a cancelled (or expired) order holds: cancel, void or refund its payments."""

from django.db import transaction

from gamarriando.tracing import traced_gateway
from orders.models import OrderStatus
from orders.services import lock_order
from payments.gateways.registry import get_gateway
from payments.models import PaymentStatus
from payments.services.gateway_results import payment_apply_gateway_result
from payments.services.ledger_core import give_back_for_cancelled_order
from transactions.models import Transaction, TransactionStatus


def payments_settle_cancelled_order(*, order_id: int) -> None:
    """Cancel, void or refund every payment of a cancelled order."""
    with transaction.atomic():
        order = lock_order(order_id)
        if order.status != OrderStatus.CANCELLED:
            return
        for payment in order.payments.select_for_update().order_by("pk"):
            give_back_for_cancelled_order(order, payment)


def payment_abandon_attempt(*, transaction_id: int) -> None:
    """Call off at the gateway an attempt that waits for the buyer, then settle its ledger row.

    Queued when the payment is cancelled, or its order is cancelled or expires, while 3-D
    Secure is pending (gateways that abandon attempts), so that a buyer who comes back later
    is not charged. A buyer who finished first keeps that outcome: the gateway reports the
    success, which is recorded, and on a cancelled order refunded.

    Raises:
        GatewayRetryableError: the task retries with the same idempotency key.
    """
    txn = Transaction.objects.select_related("payment").get(pk=transaction_id)
    payment = txn.payment
    if txn.status != TransactionStatus.PENDING or payment.status != PaymentStatus.REQUIRES_ACTION:
        return
    result = traced_gateway(get_gateway(payment.payment_method)).abandon(
        reference=payment.gateway_transaction_id,
        idempotency_key=f"{txn.idempotency_key}-abandon",
    )
    if result is None:
        return  # the gateway does not know it: the janitor asks again (reconcile)
    payment_apply_gateway_result(transaction_id=txn.pk, result=result, payment=payment)
