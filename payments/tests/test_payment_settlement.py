"""Settlement of cancelled or expired orders: refunds and voids of their payments."""

from decimal import Decimal

import pytest

from orders.models import Order
from payments.models import SimulatedGatewayOperation
from payments.tasks import reconcile_pending
from payments.tests.helpers import process
from tests.helpers import make_order, make_paid, make_payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_cancelling_a_paid_order_refunds_every_payment(api, customer, product):
    order, payment = make_paid(customer, product)
    response = api(customer).delete(f"/api/v1/orders/{order.pk}")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("50.00"))
    assert order.status == "cancelled"
    assert SimulatedGatewayOperation.objects.filter(kind="refund").count() == 1


def test_expiry_voids_authorized_payments_and_releases_stock(customer, product):
    from django.utils import timezone

    from orders.tasks import expire_unpaid_orders

    order, payment = make_paid(customer, product, quantity=3, capture=False)
    assert payment.status == "authorized"
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now())
    assert expire_unpaid_orders() == 1
    payment.refresh_from_db()
    order.refresh_from_db()
    product.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("cancelled", "expired")
    assert payment.status == "cancelled"
    assert product.stock == 10
    assert expire_unpaid_orders() == 0


def test_a_charge_that_succeeds_after_the_order_was_cancelled_is_refunded(api, customer, product):
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    process(api(customer), payment.pk, "tok_timeout")
    api(customer).delete(f"/api/v1/orders/{order.pk}")
    reconcile_pending()
    payment.refresh_from_db()
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert (payment.status, payment.captured_amount, payment.refunded_amount) == (
        "refunded",
        Decimal("50.00"),
        Decimal("50.00"),
    )
