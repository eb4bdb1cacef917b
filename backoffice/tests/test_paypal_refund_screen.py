"""Finance refunds a PayPal payment from the admin, through the same services as the API."""

from decimal import Decimal

import pytest

from backoffice.tests.helpers import operation_url, submit
from orders.tests.factories import ProductFactory
from tests.helpers import make_order, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_finance_refunds_a_paypal_payment_from_the_admin(
    api, customer, finance, fake_paypal, client
):
    order = make_order(
        customer, ProductFactory(price=Decimal("80.00"), currency="USD", stock=5), currency="USD"
    )
    payment = make_payment(customer, order, method="paypal")
    url = f"/api/v1/payments/{payment.pk}/process"
    order_id = api(customer).post(url, {}, format="json").json()["gateway_transaction_id"]
    fake_paypal.approve(order_id)
    assert api(customer).post(url, {}, format="json").json()["status"] == "completed"
    client.force_login(finance)
    response, _ = submit(
        client, operation_url(payment, "refund"), amount="30.00", reason="one item returned"
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("30.00"))
    [refund] = fake_paypal.refunds.values()
    assert refund["amount"] == {"currency_code": "USD", "value": "30.00"}
    row = Transaction.objects.get(transaction_type="refund")
    assert row.gateway_transaction_id == refund["id"]
    assert "Refund of 30.00 USD: succeeded." in client.get(response["Location"]).content.decode()
