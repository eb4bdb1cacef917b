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
