"""A refund the gateway reported succeeded and later failed: the money is ours again.

Stripe can move a refund from succeeded to failed days later (the card was closed, the bank
sent the money back). The ledger keeps the refund row as it was and appends one
`refund_reversal` row for it; the payment's refunded figure drops by its amount, so it is
refundable again, and Finance is e-mailed to send the money another way (store credit, a
bank transfer). A cancelled order's automatic refund is not retried: it failed once already.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from gamarriando import events, money
from gamarriando.event_types import EventType
from gamarriando.logging import get_logger
from payments.services.disputes import mail_finance
from payments.services.ledger_core import lock_operation, payment_event_data, sync_from_ledger
from transactions.models import Transaction, TransactionStatus, TransactionType

logger = get_logger(__name__)


def refund_record_late_failure(*, transaction_id: int, failure_reason: str) -> bool:
    """Append the reversal of a succeeded refund row the gateway now reports failed.

    Returns False when the row is not a succeeded refund or its reversal is recorded already
    (a repeated event), True when this call recorded it.
    """
    with transaction.atomic():
        order, payment, refund = lock_operation(transaction_id)
        if (refund.transaction_type, refund.status) != (
            TransactionType.REFUND,
            TransactionStatus.SUCCEEDED,
        ):
            return False
        reference = f"{refund.gateway_transaction_id or refund.pk}:failed"
        try:
            with transaction.atomic():  # the unique reference makes a repeated event a no-op
                Transaction.objects.create(
                    payment=payment,
                    transaction_type=TransactionType.REFUND_REVERSAL,
                    amount=refund.amount,
                    currency=refund.currency,
                    status=TransactionStatus.SUCCEEDED,
                    gateway_transaction_id=reference,
                    failure_reason=failure_reason[:255],
                    reason=f"refund {refund.pk} failed after it succeeded"[:255],
                    processed_at=timezone.now(),
                    gateway_response={"refund": refund.gateway_transaction_id, "status": "failed"},
                )
        except IntegrityError:
            return False
        sync_from_ledger(order, payment, reason=f"refund {refund.pk} failed at the gateway")
        amount = money.with_currency(refund.amount, refund.currency)
        events.publish(
            EventType.REFUND_FAILED,
            payment_event_data(
                payment,
                transaction_id=refund.pk,
                refund_amount=money.format_amount(refund.amount, refund.currency),
            ),
            order_id=order.pk,
        )
        logger.error(
            "refund_failed_after_success",
            payment_id=payment.pk,
            transaction_id=refund.pk,
            failure_reason=failure_reason,
        )
        text = (
            f"Refund {refund.gateway_transaction_id or refund.pk} of {amount} on payment "
            f"{payment.pk} (order {order.order_number}) failed at the gateway after it had "
            f"succeeded ({failure_reason or 'no reason given'}). The money is back with us and "
            "the customer has not received it: send it another way (store credit or a bank "
            "transfer) from the payment's refund screen."
        )
        transaction.on_commit(lambda: mail_finance("A refund failed after it succeeded", text))
    return True
