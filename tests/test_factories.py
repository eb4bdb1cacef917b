"""The factories' defaults are rows the services could have written: valid and consistent."""

from decimal import Decimal

import pytest

from notifications.tests.factories import WebhookSubscriptionFactory
from orders.models import Order
from orders.tests.factories import OrderFactory, OrderItemFactory, ProductFactory
from payments.tests.factories import PaymentFactory, StripeWebhookEventFactory
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


def test_an_order_totals_its_one_line_in_the_product_currency():
    product = ProductFactory(price=Decimal("12.50"), currency="USD")
    order = OrderFactory(product=product, quantity=3)
    line = order.items.get()
    assert (line.product, line.quantity, line.unit_price) == (product, 3, Decimal("12.50"))
    assert line.total_price == order.total_amount == Decimal("37.50")
    assert (order.currency, order.status, order.amount_paid) == ("USD", "pending", Decimal("0"))


def test_a_line_on_its_own_comes_with_an_order_it_makes_up():
    line = OrderItemFactory(quantity=2)
    assert line.order.total_amount == line.total_price == line.product.price * 2
    assert list(line.order.items.all()) == [line]
    assert Order.objects.count() == 1


def test_an_order_without_lines():
    order = OrderFactory(line=None)
    assert not order.items.exists()


def test_a_payment_and_its_ledger_row_follow_the_order():
    payment = PaymentFactory(order__product__price=Decimal("8.00"))
    row = TransactionFactory(payment=payment)
    assert (payment.amount, payment.currency, payment.status) == (Decimal("8.00"), "PEN", "pending")
    assert (payment.authorized_amount, payment.captured_amount) == (Decimal("0"), Decimal("0"))
    assert (row.transaction_type, row.amount, row.currency, row.status) == (
        "charge",
        Decimal("8.00"),
        "PEN",
        "pending",
    )
    assert PaymentFactory().order != payment.order


def test_a_stored_stripe_event_carries_its_own_payload():
    event = StripeWebhookEventFactory(type="charge.refunded")
    event.refresh_from_db()
    assert event.payload["id"] == event.id and event.id.startswith("evt_")
    assert (event.payload["type"], event.status, event.attempts) == (
        "charge.refunded",
        "received",
        0,
    )
    assert event.payload["created"] == int(event.stripe_created.timestamp())


def test_a_subscription_has_its_own_secret():
    first, second = WebhookSubscriptionFactory(), WebhookSubscriptionFactory()
    assert first.secret.startswith("whsec_") and first.secret != second.secret
    assert first.is_active and first.event_types == []
