"""Stripe's server errors are retried, then end as a gateway error."""

from decimal import Decimal

import pytest

from orders.tests.factories import ProductFactory
from tests.helpers import make_order, make_payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_stripe_5xx_is_retried_then_gateway_error(api, customer, fake_stripe):
    order = make_order(customer, ProductFactory(price=Decimal("30.00"), stock=5))
    payment = make_payment(customer, order, method="stripe")
    fake_stripe.fail_next_with_500 = 100
    body = (
        api(customer)
        .post(
            f"/api/v1/payments/{payment.pk}/process",
            {"payment_method_id": "pm_card_visa"},
            format="json",
        )
        .json()
    )
    assert (body["status"], body["failure_code"]) == ("failed", "gateway_error")
    assert fake_stripe.count("payment_intents") == 0
