"""Models shared by every app: idempotency keys and the event outbox."""

from gamarriando.events import OutboxEvent
from gamarriando.idempotency import IdempotencyKey

__all__ = ["IdempotencyKey", "OutboxEvent"]
