"""gamarriando.insert_sql: one statement writes the rows Django's saves would write."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gamarriando.events import OutboxEvent
from gamarriando.insert_sql import insert_rows, insert_together
from orders.models import Order, OrderItem, OrderStatusHistory
from orders.tests.factories import ADDRESS, ProductFactory

pytestmark = pytest.mark.django_db
STAMP = timezone.now().replace(microsecond=123456)


def _next_order_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('orders_order', 'id'))")
        return cursor.fetchone()[0]


def _rows(customer, products, order_id=None, number="GAM-TEST-1"):
    order = Order(
        id=order_id,
        user=customer,
        order_number=number,
        currency="PEN",
        total_amount=Decimal("75.50"),
        shipping_address={"city": "Lima", "lines": ["Jr. Gamarra 123"], "zip": None},
        billing_address=ADDRESS,
        notes="ring twice",
        expires_at=STAMP + timedelta(minutes=30),
        created_at=STAMP,
    )
    items = [
        OrderItem(
            order=order,
            product=product,
            quantity=quantity,
            unit_price=product.price,
            total_price=product.price * quantity,
        )
        for product, quantity in zip(products, (1, 3, 2), strict=False)
    ]
    history = OrderStatusHistory(
        order=order, to_status="pending", actor=customer, reason="created", created_at=STAMP
    )
    return order, items, history


def _read(model, pk, *, leave_out=("id", "order", "updated_at")):
    return {k: v for k, v in model_to_dict(model.objects.get(pk=pk)).items() if k not in leave_out}


@pytest.mark.postgres
def test_one_statement_writes_what_the_orm_writes(customer):
    products = [ProductFactory(price=Decimal(price)) for price in ("10.25", "7.00", "19.99")]
    orm_order, orm_items, orm_history = _rows(customer, products, number="GAM-TEST-ORM")
    orm_order.save(force_insert=True)
    OrderItem.objects.bulk_create(orm_items)
    orm_history.save(force_insert=True)
    orm_event = OutboxEvent(type="order.created", data={"b": 1, "a": [1.5]}, order_id=orm_order.pk)
    orm_event.save(force_insert=True)

    order, items, history = _rows(customer, products, order_id=_next_order_id())
    event = OutboxEvent(type="order.created", data={"b": 1, "a": [1.5]}, order_id=order.pk)
    with CaptureQueriesContext(connection) as sent:
        insert_together([order], items, [history], [event])

    assert len(sent.captured_queries) == 1
    assert _read(Order, order.pk, leave_out=("id", "order_number", "updated_at")) == _read(
        Order, orm_order.pk, leave_out=("id", "order_number", "updated_at")
    )
    for mine, theirs in zip(items, orm_items, strict=True):
        assert _read(OrderItem, mine.pk) == _read(OrderItem, theirs.pk)
    assert _read(OrderStatusHistory, history.pk) == _read(OrderStatusHistory, orm_history.pk)
    assert _read(OutboxEvent, event.pk, leave_out=("id", "order_id", "created_at")) == _read(
        OutboxEvent, orm_event.pk, leave_out=("id", "order_id", "created_at")
    )
    # auto_now and default timestamps are set on the instances, as a save sets them
    assert Order.objects.get(pk=order.pk).updated_at == order.updated_at


@pytest.mark.postgres
def test_keys_come_back_in_the_order_the_rows_were_given(customer):
    products = [ProductFactory() for _ in range(3)]
    order, items, history = _rows(customer, products, order_id=_next_order_id())
    insert_together([order], items, [history])
    stored = {row.pk: row.quantity for row in OrderItem.objects.filter(order=order)}
    assert [stored[item.pk] for item in items] == [1, 3, 2]
    assert OrderStatusHistory.objects.get(pk=history.pk).order_id == order.pk


@pytest.mark.postgres
def test_the_rows_are_saved_instances_afterwards(customer):
    order, items, history = _rows(customer, [ProductFactory()], order_id=_next_order_id())
    insert_together([order], items, [history])
    assert not order._state.adding and order._state.db == "default"
    order.notes = "changed"
    order.save()  # an UPDATE: a second INSERT would break the unique order number
    assert Order.objects.filter(order_number=order.order_number).get().notes == "changed"


@pytest.mark.postgres
def test_a_group_with_some_keys_set_and_some_not_is_refused(customer):
    order, items, _ = _rows(customer, [ProductFactory(), ProductFactory()], order_id=1)
    items[0].pk = 10**9
    with pytest.raises(ValueError, match="every row has its key or none"):
        insert_together(items)


def test_elsewhere_than_postgresql_the_one_statement_is_refused_and_the_orm_inserts(customer):
    if connection.vendor == "postgresql":
        pytest.skip("the other databases' path")
    order, items, history = _rows(customer, [ProductFactory()])
    with pytest.raises(NotImplementedError):
        insert_together([order], items, [history])
    insert_rows([order], items, [history])
    assert OrderItem.objects.get(pk=items[0].pk).order_id == order.pk
