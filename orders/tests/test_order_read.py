"""GET /orders and /orders/{id}: visibility, filters, ordering and cursor pages."""

import pytest

from orders.models import Order
from orders.tests.helpers import create

pytestmark = pytest.mark.django_db


def test_list_shows_only_own_orders_and_staff_sees_all(
    api, customer, other_customer, support, product, address
):
    create(api(customer), [{"product_id": product.pk, "quantity": 1}], address)
    create(api(other_customer), [{"product_id": product.pk, "quantity": 1}], address)
    mine = api(customer).get("/api/v1/orders").json()
    assert len(mine["results"]) == 1
    assert set(mine) == {"next", "previous", "results"}
    assert len(api(support).get("/api/v1/orders/").json()["results"]) == 2


def test_other_customers_order_is_404(api, customer, other_customer, product, address):
    order_id = create(api(customer), [{"product_id": product.pk, "quantity": 1}], address).json()[
        "id"
    ]
    response = api(other_customer).get(f"/api/v1/orders/{order_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert (
        api(other_customer)
        .patch(f"/api/v1/orders/{order_id}", {"notes": "x"}, format="json")
        .status_code
        == 404
    )
    assert api(other_customer).delete(f"/api/v1/orders/{order_id}").status_code == 404


def test_filters_and_ordering(api, customer, product, address):
    client = api(customer)
    ids = [
        create(client, [{"product_id": product.pk, "quantity": q}], address).json()["id"]
        for q in (1, 2, 3)
    ]
    newest_first = [o["id"] for o in client.get("/api/v1/orders").json()["results"]]
    assert newest_first == ids[::-1]
    oldest_first = [
        o["id"] for o in client.get("/api/v1/orders?ordering=created_at").json()["results"]
    ]
    assert oldest_first == ids
    filtered = client.get("/api/v1/orders?min_total=100&max_total=100").json()["results"]
    assert [o["id"] for o in filtered] == [ids[1]]
    number = Order.objects.get(pk=ids[2]).order_number
    assert [o["id"] for o in client.get(f"/api/v1/orders?search={number}").json()["results"]] == [
        ids[2]
    ]
    assert client.get("/api/v1/orders?status=paid").json()["results"] == []
    assert client.get("/api/v1/orders?status=bogus").status_code == 400
    assert client.get("/api/v1/orders?created_after=not-a-date").status_code == 400


def test_cursor_pagination_follows_next(api, customer, product, address):
    client = api(customer)
    for _ in range(5):
        create(client, [{"product_id": product.pk, "quantity": 1}], address)
    page = client.get("/api/v1/orders?page_size=2").json()
    seen = [o["id"] for o in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [o["id"] for o in page["results"]]
    assert len(seen) == 5 == len(set(seen))
    assert client.get("/api/v1/orders?page_size=101").status_code == 400
    assert client.get("/api/v1/orders?cursor=garbage").status_code == 400
