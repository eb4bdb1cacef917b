"""Split payments: a wallet part authorized beside a card follows the card.

The storefront authorizes the wallet part (`capture: false`: a hold), then charges the card.
When the card succeeds and the holds cover the rest of the order, they are captured (deducted)
and the order becomes paid; when a card fails, the holds are voided (released), so nothing
stays reserved for an order that cannot be paid.
"""

from django.db import transaction

from orders.models import OrderStatus
from orders.services import lock_order
from payments import rules
from payments.gateways.wallet import WALLET
from payments.models import Payment, PaymentStatus
from payments.services.capture_void import open_void
from payments.services.ledger_core import open_operation
from transactions.models import TransactionType


def wallet_parts_follow_the_order(
    *, order_id: int, other_part_succeeded: bool, after_a_paid_part: bool = False
) -> int:
    """Capture an order's authorized wallet parts once the rest is paid, or void them; return how many.

    after_a_paid_part: a wallet part was just authorized; capture only if another payment of
    the order was already captured (a wallet-only authorization waits for Finance's capture).
    """
    waiting = Payment.objects.filter(
        order_id=order_id, payment_method=WALLET, status=PaymentStatus.AUTHORIZED
    )
    if not waiting.exists():  # the common case: no order lock for a card-only order
        return 0
    with transaction.atomic():
        order = lock_order(order_id)
        if order.status != OrderStatus.PENDING:
            return 0
        if after_a_paid_part and not any(
            p.captured_amount for p in order.payments.exclude(payment_method=WALLET)
        ):
            return 0  # no other method paid: wallet parts alone wait for Finance's capture
        parts = list(
            order.payments.select_for_update()
            .filter(payment_method=WALLET, status=PaymentStatus.AUTHORIZED)
            .order_by("pk")
        )
        held = sum((p.authorized_amount - p.captured_amount for p in parts), order.amount_paid)
        moved = 0
        for payment in parts:
            if not rules.can_capture(payment):
                continue  # a capture or void is already in flight
            if other_part_succeeded and held >= order.total_amount:
                open_operation(
                    payment,
                    TransactionType.CAPTURE,
                    payment.authorized_amount,
                    reason="split payment: the rest of the order is paid",
                )
                moved += 1
            elif not other_part_succeeded:
                open_void(payment, actor=None)
                moved += 1
    return moved
