"""Fixtures of the payment tests: a payment completed through Stripe (the fake)."""

from decimal import Decimal

import pytest

from orders.tests.factories import ProductFactory
from tests.helpers import make_order, make_payment


@pytest.fixture
def paid_with_stripe(api, customer, fake_stripe):
    product = ProductFactory(price=Decimal("50.00"), stock=10)
    order = make_order(customer, product)
    payment = make_payment(customer, order, method="stripe")
    api(customer).post(
        f"/api/v1/payments/{payment.pk}/process",
        {"payment_method_id": "pm_card_visa"},
        format="json",
    )
    payment.refresh_from_db()
    assert payment.status == "completed"
    return order, payment, fake_stripe.payment_intents[payment.gateway_transaction_id]
