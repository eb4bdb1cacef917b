"""The payment state machine: every allowed status move."""

from gamarriando.errors import invalid_status
from payments.models import PaymentStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    PaymentStatus.PENDING: frozenset(
        {
            PaymentStatus.PROCESSING,
            PaymentStatus.CANCELLED,
            PaymentStatus.AUTHORIZED,
            PaymentStatus.COMPLETED,
        }
    ),
    PaymentStatus.PROCESSING: frozenset(
        {
            PaymentStatus.REQUIRES_ACTION,
            PaymentStatus.AUTHORIZED,
            PaymentStatus.COMPLETED,
            PaymentStatus.FAILED,
        }
    ),
    PaymentStatus.REQUIRES_ACTION: frozenset(
        {
            PaymentStatus.PROCESSING,
            PaymentStatus.AUTHORIZED,
            PaymentStatus.COMPLETED,
            PaymentStatus.FAILED,
            PaymentStatus.CANCELLED,
        }
    ),
    PaymentStatus.AUTHORIZED: frozenset({PaymentStatus.COMPLETED, PaymentStatus.CANCELLED}),
    PaymentStatus.COMPLETED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset({PaymentStatus.REFUNDED, PaymentStatus.COMPLETED}),
    PaymentStatus.FAILED: frozenset(
        {
            PaymentStatus.PROCESSING,
            PaymentStatus.AUTHORIZED,
            PaymentStatus.COMPLETED,
            PaymentStatus.CANCELLED,
        }
    ),
    PaymentStatus.CANCELLED: frozenset({PaymentStatus.AUTHORIZED, PaymentStatus.COMPLETED}),
    PaymentStatus.REFUNDED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.COMPLETED}),
}
# refunded/partially_refunded -> partially_refunded/completed: a refund the gateway reported
# succeeded failed later (a refund_reversal row); the money is ours again until Finance
# sends it another way.
# pending -> authorized/completed: finance records an offline operation (bank transfer).
# failed/cancelled -> authorized/completed: a late gateway success is the truth and is
# recorded (then refunded or voided automatically), never dropped.

PROCESSABLE = frozenset({PaymentStatus.PENDING, PaymentStatus.FAILED})
LIVE = frozenset(
    {
        PaymentStatus.PENDING,
        PaymentStatus.PROCESSING,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.AUTHORIZED,
    }
)
# Where a processing attempt can end: what the dashboard and the alerts count as an outcome.
FINAL = frozenset(
    {
        PaymentStatus.COMPLETED,
        PaymentStatus.AUTHORIZED,
        PaymentStatus.FAILED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    }
)


def check_transition(from_status: str, to_status: str) -> None:
    """Raise INVALID_STATUS unless the move is in the table.

    Raises:
        InvalidStatus: the move is not allowed.
    """
    if from_status != to_status and to_status not in TRANSITIONS[from_status]:
        raise invalid_status(from_status, f"A payment cannot go from {from_status} to {to_status}.")
