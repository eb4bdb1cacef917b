"""Buyer approval at the gateway (PayPal): finish the attempt the buyer approved, once."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from gamarriando.errors import invalid_status
from gamarriando.queue import enqueue_on_commit
from payments.models import Payment, PaymentStatus
from payments.services.ledger_core import set_status
from transactions.models import ATTEMPT_TYPES, Transaction, TransactionStatus


def pending_attempt(payment: Payment) -> Transaction | None:
    """Return the payment's attempt still waiting for the gateway, if any."""
    return (
        payment.transactions.filter(
            transaction_type__in=ATTEMPT_TYPES, status=TransactionStatus.PENDING
        )
        .order_by("-pk")
        .first()
    )


def payment_resume_attempt(payment: Payment) -> Payment:
    """Hand a locked payment's approved attempt to a worker, which captures or authorizes it.

    The worker reads the order at the gateway first and acts only on an approved one, under a
    key derived from the attempt's, so any number of calls (the storefront's, the webhook's,
    the janitor's) make one capture.

    Raises:
        InvalidStatus: the payment has no attempt waiting for the buyer.
    """
    attempt = pending_attempt(payment)
    if attempt is None:
        raise invalid_status(payment.status, "This payment has no attempt waiting for approval.")
    if payment.status == PaymentStatus.REQUIRES_ACTION:
        # Processing until the worker has read the order: a requires_action answer here would
        # read as PayPal's decline ("send the buyer back"), which it is only if it comes back.
        payment.next_action = None
        payment.failure_code = payment.failure_message = ""
        set_status(payment, PaymentStatus.PROCESSING, reason="the buyer is back from approving")
        payment.save()
        Transaction.objects.filter(pk=attempt.pk).update(
            # The worker reads this attempt's order (an attempt from before the order was kept
            # on its row has it on the payment only), and if the task below is lost, the
            # janitor's next turn for it comes as for a new row, not an hour or a day later.
            gateway_transaction_id=attempt.gateway_transaction_id or payment.gateway_transaction_id,
            next_reconcile_at=timezone.now() + timedelta(seconds=settings.RECONCILE_AFTER_SECONDS),
        )
    enqueue_on_commit("payments.execute_transaction", transaction_id=attempt.pk)
    return payment
