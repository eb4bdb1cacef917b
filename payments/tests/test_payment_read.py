"""GET /payments and /payments/{id}: visibility and filters."""

import pytest

from tests.helpers import make_order, make_paid, make_payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_list_filters_and_visibility(api, customer, other_customer, support, product):
    _, paid = make_paid(customer, product)
    other = make_payment(other_customer, make_order(other_customer, product))
    client = api(customer)
    assert [p["id"] for p in client.get("/api/v1/payments").json()["results"]] == [paid.pk]
    assert client.get(f"/api/v1/payments/{other.pk}").status_code == 404
    assert client.get("/api/v1/payments?status=pending").json()["results"] == []
    assert len(api(support).get("/api/v1/payments?status=pending").json()["results"]) == 1
    assert (
        len(
            api(support)
            .get(f"/api/v1/payments?order_id={paid.order_id}&min_amount=50&max_amount=50")
            .json()["results"]
        )
        == 1
    )
    assert api(support).get("/api/v1/payments?payment_method=bitcoin").status_code == 400
