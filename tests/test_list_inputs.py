"""List query inputs that decode or parse but cannot be used: a 400 on the field, never a 500."""

import base64

import pytest

from tests.helpers import make_order

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/orders", "/api/v1/payments", "/api/v1/transactions", "/api/v1/wallet/entries"]


def cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def assert_field_error(response, field):
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "position", ["p=2026", "p=x", "p=1&r=1", "p=2026-13-45T00:00:00Z", "p=2026-11-30T25:00:00"]
)
def test_a_cursor_whose_position_is_not_a_time_is_a_cursor_error(api, customer, path, position):
    response = api(customer).get(path, {"cursor": cursor(position)})
    assert_field_error(response, "cursor")


def test_a_cursor_the_api_wrote_still_pages(api, customer, product):
    for _ in range(3):
        make_order(customer, product)
    page = api(customer).get("/api/v1/orders", {"page_size": 2}).json()
    assert len(api(customer).get(page["next"]).json()["results"]) == 1


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/orders", "min_total"),
        ("/api/v1/orders", "max_total"),
        ("/api/v1/payments", "min_amount"),
        ("/api/v1/payments", "max_amount"),
    ],
)
@pytest.mark.parametrize("value", ["1e-999999", "-1e999999", "-1e-140000", "1e999999"])
def test_an_amount_bound_past_what_the_database_holds_is_a_field_error(
    api, customer, path, name, value
):
    assert_field_error(api(customer).get(path, {name: value}), name)


def test_an_ordinary_amount_bound_still_filters(api, customer, product):
    order = make_order(customer, product)
    found = api(customer).get("/api/v1/orders", {"min_total": str(order.total_amount)}).json()
    assert [o["id"] for o in found["results"]] == [order.pk]
    above = api(customer).get("/api/v1/orders", {"min_total": "100000.5"}).json()
    assert above["results"] == []


def test_trailing_zeros_of_an_amount_bound_are_no_decimals(api, customer, product):
    """The contract counts the value's decimals: 1.000… (31 zeros) is 1, within the 30 allowed."""
    order = make_order(customer, product)
    zeros = "0" * 31
    for name in ("min_total", "max_total"):
        bound = f"{order.total_amount}{zeros}"
        found = api(customer).get("/api/v1/orders", {name: bound}).json()["results"]
        assert [o["id"] for o in found] == [order.pk]
    assert api(customer).get("/api/v1/payments", {"min_amount": f"0.{zeros}"}).status_code == 200
    # A 31st decimal that is not a zero is still one too many.
    assert_field_error(
        api(customer).get("/api/v1/orders", {"min_total": "1." + "0" * 30 + "1"}), "min_total"
    )


def test_more_query_parameters_than_django_reads_is_a_validation_error(api, customer):
    client = api(customer)
    client.raise_request_exception = False
    query = "&".join(f"a{n}=1" for n in range(1100))
    response = client.get(f"/api/v1/orders?{query}")
    assert_field_error(response, "query")
    assert response.json()["error"]["request_id"] == response["X-Request-ID"]
