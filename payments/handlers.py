"""Event handlers: how payments react to what orders publish."""

from gamarriando.event_types import EventType
from gamarriando.events import subscribe
from payments.services import payments_settle_cancelled_order


@subscribe(EventType.ORDER_CANCELLED)
def on_order_cancelled(event: dict) -> None:
    """Refund, void or cancel the payments of a cancelled (or expired) order."""
    payments_settle_cancelled_order(order_id=event["data"]["order_id"])
