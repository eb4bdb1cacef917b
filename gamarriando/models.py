"""Models shared by every app: idempotency keys and the event outbox."""

from gamarriando.dead_letters import DeadLetter
from gamarriando.events import OutboxEvent
from gamarriando.idempotency import IdempotencyKey

__all__ = ["DeadLetter", "IdempotencyKey", "OutboxEvent"]
