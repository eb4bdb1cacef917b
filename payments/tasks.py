"""Celery tasks of payments: thin interfaces over the services, retrying only gateway errors."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.models import Q
from django.utils import timezone

from gamarriando.logging import get_logger
from gamarriando.queue import retry_later, send_now
from payments import services
from payments.gateways.base import GatewayRetryableError
from payments.paypal.events import paypal_event_process
from payments.services.disputes import disputes_remind_deadlines
from payments.stripe.disputes import stripe_dispute_sync
from payments.stripe.events import stripe_event_process
from payments.stripe.reconcile import payment_reconcile_stripe
from transactions.models import Transaction, TransactionStatus

logger = get_logger(__name__)
MAX_RETRIES = 3
DATABASE_BLIPS = (OperationalError, InterfaceError)


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
    except DATABASE_BLIPS as exc:
        # PostgreSQL restarted or dropped the connection: try again soon rather than leave the
        # row to the janitor (a gateway call made before it is replayed under the same key).
        if self.request.retries >= self.max_retries:
            raise
        return retry_later(self, exc, transaction_id=transaction_id)


@shared_task(bind=True, name="payments.abandon_attempt", acks_late=True, max_retries=MAX_RETRIES)
def abandon_attempt(self, *, transaction_id: int) -> None:
    """Call off at the gateway an attempt whose payment or order was cancelled meanwhile."""
    try:
        services.payment_abandon_attempt(transaction_id=transaction_id)
    except GatewayRetryableError as exc:
        if self.request.retries >= self.max_retries:
            # The row stays pending: the janitor keeps asking the gateway and applies its truth.
            logger.warning("abandon_attempt_gave_up", transaction_id=transaction_id)
            return None
        return retry_later(self, exc, transaction_id=transaction_id)


# The janitor asks again after 1 min, 5 min, 1 h, then daily (Kill Bill's schedule).
RECONCILE_SCHEDULE = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(hours=1),
    timedelta(days=1),
]


def _due(now):
    first_due = now - timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    return Transaction.objects.filter(status=TransactionStatus.PENDING).filter(
        Q(next_reconcile_at__lte=now) | Q(next_reconcile_at__isnull=True, created_at__lte=first_due)
    )


@shared_task(name="payments.reconcile_pending")
def reconcile_pending() -> int:
    """Queue a reconcile of each row left pending (timeouts, crashes); return how many."""
    now = timezone.now()
    queued = 0
    rows = _due(now).order_by("created_at").values("pk", "reconcile_attempts", "next_reconcile_at")
    for row in rows[:200]:
        # Claimed by moving its next turn, then one task per row: an overlapping run never
        # takes it again, and the gateway calls spread over the workers instead of one task
        # making them in a row while it holds a worker slot (README, recovery bounds).
        attempts = row["reconcile_attempts"]
        step = RECONCILE_SCHEDULE[min(attempts, len(RECONCILE_SCHEDULE) - 1)]
        claimed = _due(now).filter(pk=row["pk"], reconcile_attempts=attempts)
        if not claimed.update(reconcile_attempts=attempts + 1, next_reconcile_at=now + step):
            continue
        if not send_now(reconcile_transaction, transaction_id=row["pk"]):
            # The broker is away: give the turn back (the schedule must not run ahead while
            # nothing is asked) and leave the rest to the next run.
            Transaction.objects.filter(pk=row["pk"], reconcile_attempts=attempts + 1).update(
                reconcile_attempts=attempts, next_reconcile_at=row["next_reconcile_at"]
            )
            break
        queued += 1
    return queued


@shared_task(name="payments.reconcile_transaction", acks_late=True)
def reconcile_transaction(*, transaction_id: int) -> None:
    """Ask the gateway about one pending row now (the janitor's, or staff's "reconcile now")."""
    try:
        services.payment_reconcile_transaction(transaction_id=transaction_id)
    except GatewayRetryableError as exc:
        logger.warning("reconcile_deferred", transaction_id=transaction_id, error=str(exc))


@shared_task(bind=True, name="payments.process_stripe_event", acks_late=True, max_retries=5)
def process_stripe_event(self, *, event_id: str) -> None:
    """Apply one stored Stripe event; a failure stays stored and retryable."""
    try:
        stripe_event_process(event_id=event_id)
    except Exception as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            raise  # the event stays stored as failed, and the task becomes a dead letter
        return retry_later(self, exc, event_id=event_id)


@shared_task(
    bind=True, name="payments.reconcile_stripe_payment", acks_late=True, max_retries=MAX_RETRIES
)
def reconcile_stripe_payment(self, *, payment_intent_id: str, disputed: bool = False) -> None:
    """Make one payment agree with its Stripe PaymentIntent."""
    try:
        payment_reconcile_stripe(payment_intent_id=payment_intent_id, disputed=disputed)
    except GatewayRetryableError as exc:
        if self.request.retries >= self.max_retries:
            logger.warning("stripe_reconcile_gave_up", payment_intent_id=payment_intent_id)
            return None
        return retry_later(self, exc, payment_intent_id=payment_intent_id, disputed=disputed)


@shared_task(bind=True, name="payments.sync_stripe_dispute", acks_late=True, max_retries=5)
def sync_stripe_dispute(self, *, dispute_id: str) -> None:
    """Record a Stripe dispute's current state; retry while Stripe cannot be reached."""
    try:
        stripe_dispute_sync(dispute_id=dispute_id)
    except GatewayRetryableError as exc:
        if self.request.retries >= self.max_retries:
            logger.warning("stripe_dispute_sync_gave_up", dispute_id=dispute_id)
            return None
        return retry_later(self, exc, dispute_id=dispute_id)


@shared_task(name="payments.remind_dispute_deadlines", acks_late=True)
def remind_dispute_deadlines() -> int:
    """E-mail Finance about disputes whose evidence is due within three days."""
    return disputes_remind_deadlines()


@shared_task(bind=True, name="payments.process_paypal_event", acks_late=True, max_retries=5)
def process_paypal_event(self, *, event_id: str) -> None:
    """Apply one stored PayPal event; a failure stays stored and retryable."""
    try:
        paypal_event_process(event_id=event_id)
    except Exception as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            raise  # the event stays stored as failed, and the task becomes a dead letter
        return retry_later(self, exc, event_id=event_id)


@shared_task(name="payments.expire_wallet_holds")
def expire_wallet_holds() -> int:
    """Fail the wallet payment attempts whose holds outlived WALLET_HOLD_TTL_MINUTES."""
    return services.wallet_expire_holds()
