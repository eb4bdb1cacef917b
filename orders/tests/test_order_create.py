"""POST /orders: prices from the catalog, stock, validation and its error answers."""

from decimal import Decimal

import pytest

from orders.models import Order, OrderStatusHistory, Product
from orders.tests.factories import ProductFactory
from orders.tests.helpers import create

pytestmark = pytest.mark.django_db


def test_create_prices_from_catalog_merges_lines_and_reserves_stock(
    api, customer, product, address
):
    response = create(
        api(customer),
        [
            {"product_id": product.pk, "quantity": 2},
            {"product_id": product.pk, "quantity": 1, "unit_price": "50.00"},
        ],
        address,
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["currency"] == "PEN"
    assert body["total_amount"] == "150.00"
    assert body["balance_due"] == "150.00"
    assert body["amount_paid"] == "0.00"
    assert body["items"] == [
        {
            "id": body["items"][0]["id"],
            "product_id": product.pk,
            "quantity": 3,
            "unit_price": "50.00",
            "total_price": "150.00",
        }
    ]
    assert body["billing_address"] == address
    assert body["expires_at"] is not None
    product.refresh_from_db()
    assert product.stock == 7
    assert OrderStatusHistory.objects.filter(order_id=body["id"], to_status="pending").count() == 1
    assert response["X-Request-ID"]


def test_create_accepts_json_number_unit_price_and_lowercase_currency(
    api, customer, product, address
):
    response = create(
        api(customer),
        [{"product_id": product.pk, "quantity": 1, "unit_price": 50}],
        address,
        currency="pen",
    )
    assert response.status_code == 201
    assert response.json()["currency"] == "PEN"


def test_price_changed(api, customer, product, address):
    response = create(
        api(customer), [{"product_id": product.pk, "quantity": 1, "unit_price": "49.99"}], address
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "PRICE_CHANGED"
    assert error["details"] == {"product_id": product.pk, "price": "50.00"}
    assert Order.objects.count() == 0
    product.refresh_from_db()
    assert product.stock == 10


def test_out_of_stock_names_product_and_available(api, customer, product, address):
    response = create(api(customer), [{"product_id": product.pk, "quantity": 11}], address)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "OUT_OF_STOCK"
    assert response.json()["error"]["details"] == {"product_id": product.pk, "available": 10}


def test_merged_lines_are_checked_against_stock(api, customer, product, address):
    items = [{"product_id": product.pk, "quantity": 6}, {"product_id": product.pk, "quantity": 5}]
    response = create(api(customer), items, address)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "OUT_OF_STOCK"


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"product_id": 1, "quantity": 0}],
        [{"product_id": 1, "quantity": 1001}],
        [{"product_id": 1, "quantity": -1}],
        [{"product_id": "x", "quantity": 1}],
        [{"quantity": 1}],
        [{"product_id": 1, "quantity": 1}] * 101,
        [{"product_id": 1, "quantity": 1, "unit_price": "NaN"}],
        [{"product_id": 1, "quantity": 1, "unit_price": "1.001"}],
        [{"product_id": 1, "quantity": 1, "unit_price": "-5"}],
        [{"product_id": 1, "quantity": 1, "unit_price": "100000000.00"}],
        "not a list",
    ],
)
def test_invalid_items_are_validation_errors(api, customer, address, items):
    response = create(api(customer), items, address)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "items" in response.json()["error"]["details"]


def test_unknown_inactive_and_foreign_currency_products(api, customer, address):
    inactive = ProductFactory(is_active=False)
    usd = ProductFactory(currency="USD")
    for product_id in (999999, inactive.pk, usd.pk):
        response = create(api(customer), [{"product_id": product_id, "quantity": 1}], address)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert Order.objects.count() == 0


def test_address_fields_are_required(api, customer, product, address):
    del address["city"]
    response = create(api(customer), [{"product_id": product.pk, "quantity": 1}], address)
    assert response.status_code == 400
    assert "shipping_address" in response.json()["error"]["details"]


def test_unknown_currency(api, customer, product, address):
    response = create(
        api(customer), [{"product_id": product.pk, "quantity": 1}], address, currency="XXX"
    )
    assert response.status_code == 400
    assert "currency" in response.json()["error"]["details"]


def test_order_total_above_cap_is_refused(api, customer, address):
    big = ProductFactory(price=Decimal("99999999.99"), stock=5)
    response = create(api(customer), [{"product_id": big.pk, "quantity": 2}], address)
    assert response.status_code == 400
    assert Product.objects.get(pk=big.pk).stock == 5


def test_order_total_cap_is_named_in_the_currency_decimals(api, customer, address):
    yen = ProductFactory(price=Decimal("60000000"), currency="JPY", stock=5)
    response = create(
        api(customer), [{"product_id": yen.pk, "quantity": 2}], address, currency="JPY"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["items"] == [
        "The order total must not exceed 99999999 JPY."
    ]
