"""The order's fast rendering equals what its declared serializer fields render."""

import pytest
from django.db import connection
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
def test_an_order_page_is_one_statement_after_authentication(api, customer, product):
    order = make_order(customer, product, quantity=1)
    make_payment(customer, order)
    client = api(customer)
    for path in (f"/api/v1/orders/{order.pk}", "/api/v1/orders"):
        with CaptureQueriesContext(connection) as context:
            assert client.get(path).status_code == 200
        assert len(context.captured_queries) == 2, [q["sql"] for q in context.captured_queries]
