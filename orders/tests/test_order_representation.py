"""The order's fast rendering equals what its declared serializer fields render."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Subquery
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from orders import selectors
from orders.api import (
    OrderItemOutputSerializer,
    OrderOutputSerializer,
    OrderPaymentSummarySerializer,
    ProductOutputSerializer,
)
from orders.models import Order
from orders.services import order_create
from orders.tests.factories import ADDRESS, ProductFactory
from tests.helpers import make_order, make_payment

pytestmark = pytest.mark.django_db


def declared(serializer_class, instance):
    """Render with DRF's field machinery, bypassing the fast to_representation."""
    serializer = serializer_class(instance)
    base = (
        serializers.ModelSerializer if hasattr(serializer_class, "Meta") else serializers.Serializer
    )
    return base.to_representation(serializer, instance)


def test_order_item_and_payment_render_as_their_declared_fields(customer, product):
    order = make_order(customer, product, quantity=3)
    make_payment(customer, order)
    order.notes = "ring twice"
    order.save()
    [order] = selectors.attach_details([Order.objects.get(pk=order.pk)])

    fast = OrderOutputSerializer(order).data
    assert fast == declared(OrderOutputSerializer, order)
    assert list(fast) == list(declared(OrderOutputSerializer, order))
    for item, rendered in zip(order.items.all(), fast["items"], strict=True):
        assert rendered == declared(OrderItemOutputSerializer, item)
    for payment, rendered in zip(order.payments.all(), fast["payments"], strict=True):
        assert rendered == declared(OrderPaymentSummarySerializer, payment)
    assert len(fast["payments"]) == 1
    assert fast["notes"] == "ring twice"


def test_create_answer_equals_the_detail_read_back(api, customer, product, address):
    client = api(customer)
    created = client.post(
        "/api/v1/orders",
        {"items": [{"product_id": product.pk, "quantity": 2}], "shipping_address": address},
        format="json",
        HTTP_IDEMPOTENCY_KEY="render-1",
    )
    assert created.status_code == 201, created.json()
    detail = client.get(f"/api/v1/orders/{created.json()['id']}")
    assert created.content == detail.content


def test_product_renders_as_its_declared_fields(product):
    listed = selectors.product_list_active().get(pk=product.pk)
    assert ProductOutputSerializer(listed).data == declared(ProductOutputSerializer, listed)
    assert list(ProductOutputSerializer(listed).data) == list(
        declared(ProductOutputSerializer, listed)
    )


@pytest.mark.postgres
def test_the_one_statement_read_renders_what_the_separate_reads_render(customer, product):
    order = make_order(customer, product, quantity=2)
    first = make_payment(customer, order, amount="1.10")
    second = make_payment(customer, order, amount="2.25")
    # metadata, a wallet and a whole-second timestamp: the JSON path must keep each as is
    type(first).objects.filter(pk=first.pk).update(
        metadata={"cart": "c-1", "n": "2"}, wallet="apple_pay"
    )
    type(second).objects.filter(pk=second.pk).update(
        created_at=second.created_at.replace(microsecond=0)
    )
    [separate] = selectors.attach_details([Order.objects.get(pk=order.pk)])
    [joined] = selectors.attach_details(
        [selectors.with_details(Order.objects.filter(pk=order.pk)).get()]
    )
    assert hasattr(joined, "item_rows")  # the PostgreSQL path was the one taken
    assert OrderOutputSerializer(joined).data == OrderOutputSerializer(separate).data
    assert len(OrderOutputSerializer(joined).data["payments"]) == 2


@pytest.mark.postgres
def test_a_jpy_order_with_two_lines_and_no_payment_reads_the_same_both_ways(customer):
    first = ProductFactory(sku="JPY-1", price=Decimal("1200"), currency="JPY")
    second = ProductFactory(sku="JPY-2", price=Decimal("350"), currency="JPY")
    order = order_create(
        user=customer,
        items=[{"product_id": second.pk, "quantity": 3}, {"product_id": first.pk, "quantity": 1}],
        shipping_address=dict(ADDRESS),
        currency="JPY",
    )
    [separate] = selectors.attach_details([Order.objects.get(pk=order.pk)])
    [joined] = selectors.attach_details(
        [selectors.with_details(Order.objects.filter(pk=order.pk)).get()]
    )
    rendered = OrderOutputSerializer(joined).data
    assert rendered == OrderOutputSerializer(separate).data
    assert [item["unit_price"] for item in rendered["items"]] == ["350", "1200"]
    assert rendered["payments"] == []


@pytest.mark.postgres
def test_the_joined_read_follows_the_alias_django_gives_the_orders_table(customer, product):
    """In a subquery Django renames the orders table; the JSON must follow the inner order."""
    mine = make_order(customer, product, quantity=1)
    other = make_order(customer, ProductFactory(sku="ALIAS-2"), quantity=2)
    inner = selectors.with_details(Order.objects.filter(pk=other.pk)).values("item_rows")
    outer = Order.objects.filter(pk=mine.pk).annotate(other_items=Subquery(inner[:1])).get()
    items = (
        outer.other_items if isinstance(outer.other_items, list) else json.loads(outer.other_items)
    )
    assert [item["quantity"] for item in items] == [2]


@pytest.mark.postgres
def test_an_order_page_is_one_statement_after_authentication(api, customer, product):
    order = make_order(customer, product, quantity=1)
    make_payment(customer, order)
    client = api(customer)
    for path in (f"/api/v1/orders/{order.pk}", "/api/v1/orders"):
        with CaptureQueriesContext(connection) as context:
            assert client.get(path).status_code == 200
        assert len(context.captured_queries) == 2, [q["sql"] for q in context.captured_queries]
