"""The transactional outbox: domain events written with the change they report."""

import uuid
from collections import defaultdict
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from prometheus_client import Counter

from gamarriando.logging import get_logger
from gamarriando.queue import enqueue_on_commit

logger = get_logger(__name__)
_handlers: dict[str, list[Callable[[dict], None]]] = defaultdict(list)
EVENTS_PUBLISHED = Counter(
    "gamarriando_events_published_total", "Domain events written to the outbox", ["type"]
)


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


def subscribe(event_type: str):
    """Register an in-process handler for an event type ("*" for every type)."""

    def register(handler):
        if handler not in _handlers[event_type]:
            _handlers[event_type].append(handler)
        return handler

    return register


def publish(event_type: str, data: dict, *, order_id: int | None = None) -> OutboxEvent:
    """Write an event inside the caller's transaction and dispatch it after commit."""
    event = OutboxEvent.objects.create(type=event_type, data=data, order_id=order_id)
    enqueue_on_commit("gamarriando.dispatch_event", event_id=str(event.id))
    # Counted at commit: an event rolled back with its change was never published.
    transaction.on_commit(EVENTS_PUBLISHED.labels(event_type).inc)
    return event


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
        envelope = event.envelope()
        for handler in [*_handlers.get(event.type, []), *_handlers.get("*", [])]:
            handler(envelope)
        event.dispatched_at = timezone.now()
        event.attempts += 1
        event.save(update_fields=["dispatched_at", "attempts"])
    logger.info("event_dispatched", event_type=envelope["type"], event_id=event_id)
