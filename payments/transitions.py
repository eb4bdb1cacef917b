"""The payment state machine: every allowed status move."""

from gamarriando.errors import invalid_status
from payments.models import PaymentStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.PROCESSING, S.CANCELLED, S.AUTHORIZED, S.COMPLETED}),
    S.PROCESSING: frozenset({S.REQUIRES_ACTION, S.AUTHORIZED, S.COMPLETED, S.FAILED}),
    S.REQUIRES_ACTION: frozenset({S.PROCESSING, S.AUTHORIZED, S.COMPLETED, S.FAILED, S.CANCELLED}),
    S.AUTHORIZED: frozenset({S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.REFUNDED}),
    S.FAILED: frozenset({S.PROCESSING, S.AUTHORIZED, S.COMPLETED, S.CANCELLED}),
    S.CANCELLED: frozenset({S.AUTHORIZED, S.COMPLETED}),
    S.REFUNDED: frozenset(),
}
# pending -> authorized/completed: finance records an offline operation (bank transfer).
# failed/cancelled -> authorized/completed: a late gateway success is the truth and is
# recorded (then refunded or voided automatically), never dropped.

PROCESSABLE = frozenset({S.PENDING, S.FAILED})
LIVE = frozenset({S.PENDING, S.PROCESSING, S.REQUIRES_ACTION, S.AUTHORIZED})
# Where a processing attempt can end: what the dashboard and the alerts count as an outcome.
FINAL = frozenset({S.COMPLETED, S.AUTHORIZED, S.FAILED, S.PARTIALLY_REFUNDED, S.REFUNDED})


def check_transition(from_status: str, to_status: str) -> None:
    """Raise INVALID_STATUS unless the move is in the table.

    Raises:
        InvalidStatus: the move is not allowed.
    """
    if from_status != to_status and to_status not in TRANSITIONS[from_status]:
        raise invalid_status(from_status, f"A payment cannot go from {from_status} to {to_status}.")
