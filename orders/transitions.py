"""The order state machine: every allowed move and who may make it."""

from orders.models import OrderStatus as S

SYSTEM, CUSTOMER, STAFF = "system", "customer", "staff"

# (from, to) -> who may cause the move. Anything absent is INVALID_STATUS.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.PENDING, S.PAID): frozenset({SYSTEM}),
    (S.PENDING, S.CANCELLED): frozenset({SYSTEM, CUSTOMER, STAFF}),
    (S.PAID, S.PROCESSING): frozenset({STAFF}),
    (S.PROCESSING, S.SHIPPED): frozenset({STAFF}),
    (S.SHIPPED, S.DELIVERED): frozenset({STAFF}),
    (S.PAID, S.CANCELLED): frozenset({CUSTOMER, STAFF, SYSTEM}),
    (S.PROCESSING, S.CANCELLED): frozenset({CUSTOMER, STAFF, SYSTEM}),
    (S.PAID, S.REFUNDED): frozenset({SYSTEM}),
    (S.PROCESSING, S.REFUNDED): frozenset({SYSTEM}),
    (S.SHIPPED, S.REFUNDED): frozenset({SYSTEM}),
    (S.DELIVERED, S.REFUNDED): frozenset({SYSTEM}),
}


def can_transition(from_status: str, to_status: str, role: str) -> bool:
    """Tell whether role may move an order from one status to another."""
    return role in TRANSITIONS.get((from_status, to_status), frozenset())


def staff_targets(from_status: str) -> list[str]:
    """Return the statuses staff may move an order to from this one."""
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == from_status and STAFF in roles]
