"""PostgreSQL's rendering of an order equals Python's, byte for byte (representation_sql)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import DataError, transaction
from django.db.models import Subquery

from orders import selectors
from orders.models import Order
from orders.representations import order_data
from orders.services import order_create
from orders.tests.factories import ADDRESS, ProductFactory
from tests.helpers import make_order, make_payment

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def both_ways(order_id: int) -> tuple[str, str]:
    """Render the order in Python from the model and through the SQL (detail and list), as text."""
    [python] = selectors.attach_details([Order.objects.get(pk=order_id)])
    detail = selectors.with_details(Order.objects.filter(pk=order_id)).get()
    assert hasattr(detail, "rendered")  # the PostgreSQL path was the one taken
    [row] = selectors.rendered_rows(Order.objects.filter(pk=order_id))
    # json.dumps keeps key order, so the texts differ if any key or value does
    assert json.dumps(order_data(row)) == json.dumps(order_data(detail))
    return json.dumps(order_data(python)), json.dumps(order_data(detail))


def test_an_order_with_payments_metadata_a_wallet_and_whole_second_times(customer, product):
    order = make_order(customer, product, quantity=2)
    first = make_payment(customer, order, amount="1.10")
    second = make_payment(customer, order, amount="2.25")
    payments = type(first).objects
    payments.filter(pk=first.pk).update(
        metadata={"cart": "c-1", "n": "2"},
        wallet="apple_pay",
        authorized_amount=Decimal("1.10"),
        captured_amount=Decimal("1.10"),
        refunded_amount=Decimal("0.10"),
    )
    payments.filter(pk=second.pk).update(
        created_at=datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC),
        authorized_amount=Decimal("2.25"),
        captured_amount=Decimal("2.25"),
    )
    Order.objects.filter(pk=order.pk).update(
        notes='entrega\u2028piso 2 — ñ "ya" \t\\',
        amount_paid=Decimal("3.35"),
        amount_refunded=Decimal("0.10"),
        created_at=datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
        expires_at=None,
    )
    python, sql = both_ways(order.pk)
    assert sql == python
    rendered = json.loads(sql)
    assert len(rendered["payments"]) == 2 and rendered["expires_at"] is None
    assert rendered["created_at"] == "2026-01-02T03:04:05.000600Z"
    assert rendered["payments"][1]["created_at"] == "2026-11-30T12:00:00Z"


def test_a_jpy_order_with_two_lines_and_no_payment(customer):
    first = ProductFactory(sku="JPY-1", price=Decimal("1200"), currency="JPY")
    second = ProductFactory(sku="JPY-2", price=Decimal("350"), currency="JPY")
    order = order_create(
        user=customer,
        items=[{"product_id": second.pk, "quantity": 3}, {"product_id": first.pk, "quantity": 1}],
        shipping_address=dict(ADDRESS),
        currency="JPY",
    )
    python, sql = both_ways(order.pk)
    assert sql == python
    rendered = json.loads(sql)
    assert [item["unit_price"] for item in rendered["items"]] == ["350", "1200"]
    assert rendered["total_amount"] == "2250" and rendered["balance_due"] == "2250"
    assert rendered["payments"] == []


@pytest.mark.parametrize("currency", ["PEN", "USD", "EUR", "GBP", "MXN", "BRL", "JPY", "CLP"])
def test_every_currency_rounds_as_format_amount(customer, currency):
    # The columns keep two decimals, so only the zero-decimal currencies round here.
    product = ProductFactory(sku=f"CUR-{currency}", price=Decimal("10"), currency=currency)
    order = make_order(customer, product, quantity=1, currency=currency)
    # values the API never stores, to show the SQL rounds half up as format_amount does
    Order.objects.filter(pk=order.pk).update(
        total_amount=Decimal("99999000.50"), amount_paid=Decimal("0.05")
    )
    python, sql = both_ways(order.pk)
    assert sql == python


def test_numbers_orjson_cannot_read_in_stored_metadata_take_json_s_path(customer, product):
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    type(payment).objects.filter(pk=payment.pk).update(
        metadata={"big": 2**70, "huge": int("1" + "0" * 400), "real": 1.5, "nested": {"a": 1}}
    )
    python, sql = both_ways(order.pk)
    assert sql == python
    assert json.loads(sql)["payments"][0]["metadata"]["big"] == str(2**70)


def test_a_currency_we_do_not_sell_fails_both_renderings(customer, product):
    order = make_order(customer, product)
    Order.objects.filter(pk=order.pk).update(currency="pen")
    [python] = selectors.attach_details([Order.objects.get(pk=order.pk)])
    with pytest.raises(KeyError):
        order_data(python)
    with pytest.raises(DataError), transaction.atomic():
        selectors.with_details(Order.objects.filter(pk=order.pk)).get()


def test_stored_addresses_with_missing_extra_null_and_non_text_values(customer, product):
    order = make_order(customer, product)
    Order.objects.filter(pk=order.pk).update(
        shipping_address={
            "street": "Jr. Gamarra 1",
            "city": None,
            "extra": "x",
            "postal_code": 15018,
        },
        billing_address={},
    )
    python, sql = both_ways(order.pk)
    assert sql == python
    rendered = json.loads(sql)
    assert rendered["shipping_address"]["postal_code"] == "15018"
    assert rendered["billing_address"] == dict.fromkeys(rendered["billing_address"])


def test_the_rendering_follows_the_alias_django_gives_the_orders_table(customer, product):
    """In a subquery Django renames the orders table; the JSON must follow the inner order."""
    mine = make_order(customer, product, quantity=1)
    other = make_order(customer, ProductFactory(sku="ALIAS-2"), quantity=2)
    inner = selectors.with_details(Order.objects.filter(pk=other.pk)).values("rendered")
    outer = Order.objects.filter(pk=mine.pk).annotate(other=Subquery(inner[:1])).get()
    assert json.loads(outer.other)["id"] == other.pk
    assert [item["quantity"] for item in json.loads(outer.other)["items"]] == [2]
