"""Give back what a cancelled (or expired) order holds: cancel, void or refund its payments."""

from django.db import transaction

from orders.models import OrderStatus
from orders.services import lock_order
from payments.services.ledger_core import give_back_for_cancelled_order


def payments_settle_cancelled_order(*, order_id: int) -> None:
    """Cancel, void or refund every payment of a cancelled order."""
    with transaction.atomic():
        order = lock_order(order_id)
        if order.status != OrderStatus.CANCELLED:
            return
        for payment in order.payments.select_for_update().order_by("pk"):
            give_back_for_cancelled_order(order, payment)
