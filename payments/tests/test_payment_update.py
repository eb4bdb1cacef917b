"""PATCH/PUT /payments/{id}: only a pending payment changes."""

import pytest

from payments.tests.helpers import process
from tests.helpers import make_order, make_payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_update_only_while_pending(api, customer, product):
    order = make_order(customer, product, quantity=2)
    payment = make_payment(customer, order, amount="50")
    client = api(customer)
    response = client.patch(f"/api/v1/payments/{payment.pk}", {"amount": "100"}, format="json")
    assert response.status_code == 200
    assert response.json()["amount"] == "100.00"
    assert (
        client.patch(f"/api/v1/payments/{payment.pk}", {"amount": "100.01"}, format="json").json()[
            "error"
        ]["code"]
        == "AMOUNT_MISMATCH"
    )
    assert (
        client.patch(
            f"/api/v1/payments/{payment.pk}", {"payment_method": "nope"}, format="json"
        ).status_code
        == 400
    )
    process(client, payment.pk)
    late = client.put(f"/api/v1/payments/{payment.pk}", {"amount": "10"}, format="json")
    assert late.status_code == 409


def test_a_method_that_cannot_take_the_currency_is_refused_as_on_create(
    api, customer, product, fake_paypal
):
    order = make_order(customer, product)  # in PEN, which PayPal does not take
    assert order.currency == "PEN"
    payment = make_payment(customer, order)
    refused = api(customer).patch(
        f"/api/v1/payments/{payment.pk}", {"payment_method": "paypal"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        **refused.json()["error"],
        "code": "PAYMENT_METHOD_ERROR",
        "message": "paypal does not take PEN.",
    }
    payment.refresh_from_db()
    assert payment.payment_method == "simulated"
