"""The order state machine: every allowed move and who may make it."""

from orders.models import OrderStatus

SYSTEM, CUSTOMER, STAFF = "system", "customer", "staff"

# (from, to) -> who may cause the move. Anything absent is INVALID_STATUS.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (OrderStatus.PENDING, OrderStatus.PAID): frozenset({SYSTEM}),
    (OrderStatus.PENDING, OrderStatus.CANCELLED): frozenset({SYSTEM, CUSTOMER, STAFF}),
    (OrderStatus.PAID, OrderStatus.PROCESSING): frozenset({STAFF}),
    (OrderStatus.PROCESSING, OrderStatus.SHIPPED): frozenset({STAFF}),
    (OrderStatus.SHIPPED, OrderStatus.DELIVERED): frozenset({STAFF}),
    (OrderStatus.PAID, OrderStatus.CANCELLED): frozenset({CUSTOMER, STAFF, SYSTEM}),
    (OrderStatus.PROCESSING, OrderStatus.CANCELLED): frozenset({CUSTOMER, STAFF, SYSTEM}),
    (OrderStatus.PAID, OrderStatus.REFUNDED): frozenset({SYSTEM}),
    (OrderStatus.PROCESSING, OrderStatus.REFUNDED): frozenset({SYSTEM}),
    (OrderStatus.SHIPPED, OrderStatus.REFUNDED): frozenset({SYSTEM}),
    (OrderStatus.DELIVERED, OrderStatus.REFUNDED): frozenset({SYSTEM}),
}


# The moves that ship goods: refused while anything of the total is still unpaid.
FULFILMENT = frozenset({OrderStatus.PROCESSING, OrderStatus.SHIPPED, OrderStatus.DELIVERED})


def can_transition(from_status: str, to_status: str, role: str) -> bool:
    """Tell whether role may move an order from one status to another."""
    return role in TRANSITIONS.get((from_status, to_status), frozenset())


def staff_targets(from_status: str) -> list[str]:
    """Return the statuses staff may move an order to from this one."""
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == from_status and STAFF in roles]
