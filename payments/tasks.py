"""Celery tasks of payments: thin interfaces over the services, retrying only gateway errors."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from gamarriando.logging import get_logger
from gamarriando.queue import retry_later
from payments import services
from payments.gateways.base import GatewayRetryableError
from transactions.models import Transaction, TransactionStatus

logger = get_logger(__name__)
MAX_RETRIES = 3


@shared_task(
    bind=True, name="payments.execute_transaction", acks_late=True, max_retries=MAX_RETRIES
)
def execute_transaction(self, *, transaction_id: int) -> None:
    """Run one gateway operation (charge, capture, void, refund) for a pending ledger row."""
    try:
        services.payment_execute_transaction(transaction_id=transaction_id)
    except GatewayRetryableError as exc:
        if self.request.retries >= self.max_retries:
            services.payment_gateway_gave_up(transaction_id=transaction_id, error=exc)
            return
        return retry_later(self, exc, transaction_id=transaction_id)


@shared_task(name="payments.reconcile_pending")
def reconcile_pending() -> int:
    """Ask the gateways about rows left pending (timeouts, crashes) and apply the truth."""
    cutoff = timezone.now() - timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    pending = Transaction.objects.filter(status=TransactionStatus.PENDING, created_at__lte=cutoff)
    done = 0
    for transaction_id in pending.order_by("created_at").values_list("pk", flat=True)[:200]:
        try:
            services.payment_reconcile_transaction(transaction_id=transaction_id)
            done += 1
        except GatewayRetryableError as exc:
            logger.warning("reconcile_deferred", transaction_id=transaction_id, error=str(exc))
    return done
