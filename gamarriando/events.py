"""The transactional outbox: domain events written with the change they report."""

import contextlib
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone

from gamarriando.finance_metrics import EVENTS_PUBLISHED
from gamarriando.insert_sql import bulk_insert, insert_together
from gamarriando.logging import get_logger
from gamarriando.queue import enqueue_on_commit, runs_inline, send_now

logger = get_logger(__name__)
_handlers: dict[str, list[Callable[[dict], None]]] = defaultdict(list)
# Set while a dispatch_pending task is queued and has not started reading: publishers that
# find it set leave their events to that task. Its life bounds how long a kick that never
# arrives (a worker killed between receiving and starting it) holds back the next one.
KICK_KEY = "outbox:kick"
KICK_SECONDS = 10
BATCH_SIZE = 50
BATCH_LOCK = 0x6F7574626F78  # "outbox": the advisory lock that keeps batches one at a time
# What the handlers of the batch being dispatched share (batch_shared); None outside a batch.
_batch_shared: ContextVar[dict | None] = ContextVar("outbox_batch_shared", default=None)


class OutboxEvent(models.Model):
    """A domain event as the versioned envelope {id, type, created_at, data}."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64, db_index=True)
    version = models.PositiveSmallIntegerField(default=1)
    order_id = models.BigIntegerField(null=True, db_index=True)
    data = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self):
        return f"{self.type} {self.id}"

    def envelope(self) -> dict:
        """Return the event as subscribers receive it."""
        return {
            "id": str(self.id),
            "type": self.type,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "data": self.data,
        }

    def handled(self) -> dict:
        """Return the envelope as in-process handlers get it: with the order it belongs to."""
        # Some events' data name no order (wallet.*); webhooks keep per-order order by this.
        return {**self.envelope(), "order_id": self.order_id}


def subscribe(event_type: str):
    """Register an in-process handler for an event type ("*" for every type)."""

    def register(handler):
        if handler not in _handlers[event_type]:
            _handlers[event_type].append(handler)
        return handler

    return register


def new_event(event_type: str, data: dict, *, order_id: int | None = None) -> OutboxEvent:
    """Return an unsaved event, for a caller that inserts it with its own rows (then published)."""
    return OutboxEvent(type=event_type, data=data, order_id=order_id)


def publish(
    event_type: str, data: dict, *, order_id: int | None = None, at: datetime | None = None
) -> OutboxEvent:
    """Write an event inside the caller's transaction and dispatch it after commit.

    `at` backdates the event to when its cause happened: a refund's event, built after the
    sync that already published the order.refunded it caused, still goes first (events are
    dispatched and delivered in created_at order).
    """
    event = new_event(event_type, data, order_id=order_id)
    if at is not None:
        event.created_at = at
    event.save(force_insert=True)
    published(event)
    return event


def insert_and_publish(
    groups: list[list[models.Model]],
    event_type: str,
    describe: Callable[[], tuple[dict, int | None]],
) -> OutboxEvent:
    """Insert new rows and the event about them; describe() gives its data and order id.

    When the rows' keys were drawn beforehand (next_id_sql, PostgreSQL), rows and event are
    one statement; otherwise the rows are inserted first, so that the event can name them.
    """
    if connection.vendor != "postgresql" or groups[0][0].pk is None:
        bulk_insert(*groups)
        data, order_id = describe()
        return publish(event_type, data, order_id=order_id)
    data, order_id = describe()
    event = new_event(event_type, data, order_id=order_id)
    insert_together(*groups, [event])
    published(event)
    return event


def insert_with_event(
    rows: list[models.Model], event_type: str, data: dict, *, order_id: int | None = None
) -> OutboxEvent:
    """Insert rows the event does not name (a status history row) and the event: one statement.

    On PostgreSQL one round trip instead of two (docs/benchmarks.md, round 9); elsewhere the
    ORM's inserts, one after the other.
    """
    event = new_event(event_type, data, order_id=order_id)
    if connection.vendor == "postgresql":
        insert_together(rows, [event])
    else:
        bulk_insert(rows, [event])
    published(event)
    return event


def published(event: OutboxEvent) -> None:
    """Dispatch after commit an event its caller inserted itself, inside its transaction."""
    event_type = event.type
    transaction.on_commit(lambda: EVENTS_PUBLISHED.labels(event_type).inc())
    if runs_inline():
        # Inline mode (no broker): this event alone, at once, as its own task.
        enqueue_on_commit("gamarriando.dispatch_event", event_id=str(event.id))
    else:
        transaction.on_commit(partial(_kick, str(event.id)), robust=True)


def _kick(event_id: str) -> None:
    """After commit, make sure one dispatch_pending task is on its way for this event."""
    # The first event of a quiet moment queues the task, OUTBOX_BATCH_WINDOW_SECONDS ahead;
    # the events committed until it starts find the key set and cost one Redis command each,
    # not a task each (docs/benchmarks.md, round 5). The task deletes the key before it
    # reads, so an event whose `add` found the key set was committed before that read.
    try:
        if _cache_is_shared() and not cache.add(KICK_KEY, 1, timeout=KICK_SECONDS):
            return
    except Exception:  # noqa: BLE001, S110 - no key to share: this event sends its own task
        pass
    sent = send_now(
        "gamarriando.dispatch_pending",
        countdown=settings.OUTBOX_BATCH_WINDOW_SECONDS,
        event_id=event_id,
    )
    if not sent:
        # Nothing is on its way: the next event kicks again; this one waits for the sweep.
        with contextlib.suppress(Exception):
            cache.delete(KICK_KEY)


def _cache_is_shared() -> bool:
    """Tell whether the web processes and the worker share one cache, so one key serves all."""
    # With a broker but a per-process cache (CELERY_BROKER_URL without REDIS_URL) the worker
    # could never clear a web process's key: every event then queues its own task.
    return "LocMem" not in settings.CACHES["default"]["BACKEND"]


def _dispatch_here(event_id: str) -> None:
    """Dispatch one event in this worker; on a handler's error hand it to its retrying task."""
    try:
        dispatch(event_id)
    except Exception as exc:
        logger.warning("event_dispatch_deferred", event_id=event_id, error=str(exc)[:200])
        record_dispatch_error(event_id, exc)
        send_now("gamarriando.dispatch_event", event_id=event_id)


def record_dispatch_error(event_id, exc: Exception) -> None:
    """Keep a handler's error on its event: batches then leave it to its retrying task."""
    OutboxEvent.objects.filter(pk=event_id).update(last_error=repr(exc)[:2000])


def batch_shared(key: str, make: Callable[[], object]):
    """Return make()'s value, made once per dispatch batch and shared by its events' handlers."""
    # Outside a batch (an event dispatched alone) every call makes its own. The value lives
    # as long as the batch's transaction, so what make() registers on commit must be
    # registered at the batch's level: one made inside a handler's own savepoint that rolls
    # back would keep being filled while its on-commit work was dropped.
    shared = _batch_shared.get()
    if shared is None:
        return make()
    if key not in shared:
        shared[key] = make()
    return shared[key]


def _run_handlers(envelope: dict) -> None:
    """Call every handler subscribed to the event's type, then the catch-all ones."""
    for handler in [*_handlers.get(envelope["type"], []), *_handlers.get("*", [])]:
        handler(envelope)


def dispatch(event_id: str) -> None:
    """Run the handlers of one undelivered event, once."""
    with transaction.atomic():
        event = (
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id, dispatched_at__isnull=True)
            .first()
        )
        if event is None:
            return
        envelope = event.handled()
        _run_handlers(envelope)
        event.dispatched_at = timezone.now()
        event.attempts += 1
        event.save(update_fields=["dispatched_at", "attempts"])
    logger.info("event_dispatched", event_type=envelope["type"], event_id=event_id)


class _BatchFailed(Exception):
    """A handler failed inside a batch: roll the batch back, then go one event at a time."""


def dispatch_batch(limit: int = BATCH_SIZE) -> int:
    """Dispatch up to `limit` never-failed events, oldest first, in one transaction; return how many."""
    # One batch at a time: two batches could otherwise take the order locks of their
    # events' handlers in opposite orders (a deadlock), and an order's later event could be
    # delivered while its earlier one waits in the other batch's open transaction. The
    # locks a batch's handlers take (order.cancelled, payment.succeeded) are held until it
    # commits: BATCH_SIZE bounds that. Events that failed before are their retrying task's.
    try:
        with transaction.atomic():
            _one_batch_at_a_time()
            batch = list(
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(dispatched_at__isnull=True, last_error="")
                .order_by("created_at")[:limit]
            )
            if not batch:
                return 0
            token = _batch_shared.set({})
            try:
                for event in batch:
                    _run_handlers(event.handled())
            except Exception as exc:
                raise _BatchFailed from exc
            finally:
                _batch_shared.reset(token)
            OutboxEvent.objects.filter(pk__in=[event.pk for event in batch]).update(
                dispatched_at=timezone.now(), attempts=F("attempts") + 1
            )
    except _BatchFailed as failed:
        # One bad event never holds back the others: each goes the one-event way.
        logger.warning("event_batch_failed", events=len(batch), error=str(failed.__cause__)[:200])
        for event in batch:
            _dispatch_here(str(event.pk))
        return len(batch)
    logger.info(
        "events_dispatched",
        events=len(batch),
        first_event_id=str(batch[0].pk),
        last_event_id=str(batch[-1].pk),
    )
    return len(batch)


def _one_batch_at_a_time() -> None:
    """Wait for any other batch to commit (PostgreSQL; elsewhere writers are serial anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BATCH_LOCK])
