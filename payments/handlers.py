"""Event handlers: how payments react to what orders publish."""

from gamarriando.events import subscribe


@subscribe("order.cancelled")
def on_order_cancelled(event: dict) -> None:
    """Refund, void or cancel the payments of a cancelled (or expired) order."""
    from payments.services import payments_settle_cancelled_order

    payments_settle_cancelled_order(order_id=event["data"]["order_id"])
