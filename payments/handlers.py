"""Event handlers: how payments react to what orders publish."""

from gamarriando.event_types import EventType
from gamarriando.events import subscribe
from payments.gateways.wallet import WALLET
from payments.services import payments_settle_cancelled_order
from payments.services.wallet_split import wallet_parts_follow_the_order


@subscribe(EventType.ORDER_CANCELLED)
def on_order_cancelled(event: dict) -> None:
    """Refund, void or cancel the payments of a cancelled (or expired) order."""
    payments_settle_cancelled_order(order_id=event["data"]["order_id"])


@subscribe(EventType.PAYMENT_SUCCEEDED)
@subscribe(EventType.PAYMENT_FAILED)
def on_other_part_settled(event: dict) -> None:
    """Capture or release the store-credit holds that wait beside a card on the same order."""
    data = event["data"]
    if data["payment_method"] == WALLET:
        return
    wallet_parts_follow_the_order(
        order_id=data["order_id"],
        other_part_succeeded=event["type"] == EventType.PAYMENT_SUCCEEDED,
    )


@subscribe(EventType.PAYMENT_AUTHORIZED)
def on_wallet_part_authorized(event: dict) -> None:
    """Capture a wallet part authorized after the card had already paid the rest of the order."""
    data = event["data"]
    if data["payment_method"] != WALLET:
        return
    wallet_parts_follow_the_order(
        order_id=data["order_id"], other_part_succeeded=True, after_a_paid_part=True
    )
