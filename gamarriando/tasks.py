"""Tasks of the shared layer: event dispatch, outbox sweep, key purge."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from gamarriando import events
from gamarriando.alerts import alert_check_and_notify
from gamarriando.idempotency import IdempotencyKey
from gamarriando.logging import get_logger
from gamarriando.queue import retry_later

logger = get_logger(__name__)


@shared_task(name="gamarriando.dispatch_event", acks_late=True, bind=True, max_retries=5)
def dispatch_event(self, *, event_id: str) -> None:
    """Hand one outbox event to its in-process handlers."""
    try:
        events.dispatch(event_id)
    except Exception as exc:
        events.record_dispatch_error(event_id, exc)
        if self.request.is_eager or self.request.retries >= self.max_retries:
            raise
        return retry_later(self, exc, event_id=event_id)


@shared_task(name="gamarriando.dispatch_pending", acks_late=True)
def dispatch_pending(*, event_id: str | None = None) -> int:
    """Dispatch in batches every event committed until a batch comes back short."""
    # event_id, the event whose commit queued this task, is there for the log lines.
    try:
        # Before reading: a publisher that commits after this sees no key and kicks again.
        cache.delete(events.KICK_KEY)
    except Exception as exc:  # the cache is away: its key expires; dispatch all the same
        logger.warning("outbox_kick_not_cleared", error=str(exc)[:200])
    taken = total = events.dispatch_batch()
    while taken == events.BATCH_SIZE:
        taken = events.dispatch_batch()
        total += taken
    return total


@shared_task(name="gamarriando.sweep_outbox")
def sweep_outbox() -> int:
    """Dispatch, oldest first, the events whose on-commit delivery was lost."""
    cutoff = timezone.now() - timedelta(seconds=30)
    pending = events.OutboxEvent.objects.filter(
        dispatched_at__isnull=True, created_at__lt=cutoff
    ).order_by("created_at")
    count = 0
    for event_id in pending.values_list("id", flat=True)[:500]:
        try:
            events.dispatch(str(event_id))
        except Exception as exc:
            # One event whose handler keeps failing must not stop the sweep of the others.
            logger.warning("sweep_event_failed", event_id=str(event_id), error=str(exc)[:200])
            events.record_dispatch_error(event_id, exc)
            continue
        count += 1
    return count


@shared_task(name="gamarriando.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Delete stored answers older than the replay window."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(name="gamarriando.check_alerts")
def check_alerts() -> list[str]:
    """Run the alert checks and e-mail the admins when one fires."""
    return alert_check_and_notify()
