"""Reads of orders and products, scoped to what the caller may see."""

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from types import SimpleNamespace

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from gamarriando import json_codec
from orders.models import Order, OrderItem, Product

# The columns a catalog entry shows (orders.representations.product_data).
PRODUCT_FIELDS = ("id", "sku", "name", "price", "currency", "stock", "created_at")


def product_list_active() -> QuerySet[Product]:
    """Return the products a storefront may sell, with the columns the catalog shows."""
    return Product.objects.filter(is_active=True).only(*PRODUCT_FIELDS)


def order_visible_to(user) -> QuerySet[Order]:
    """Return the orders the user may see: all with staff's orders.view_order, else their own."""
    queryset = Order.objects.all()
    if not (user.is_staff and user.has_perm("orders.view_order")):
        queryset = queryset.filter(user=user)
    return queryset


# The payment columns an order shows (orders.representations.payment_summary_data): the
# gateway's JSON answers are not read for an order page.
PAYMENT_SUMMARY_FIELDS = (
    "id",
    "order_id",
    "payment_method",
    "amount",
    "currency",
    "status",
    "captured_amount",
    "refunded_amount",
    "metadata",
    "wallet",
    "created_at",
)


def with_details(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """On PostgreSQL, read each order's lines and payments inside the order's own statement."""
    # Two correlated subqueries aggregate them as JSON (amounts as text, times as UTC text,
    # so nothing passes through a float) and attach_details turns them into the same lists:
    # an order page is one statement instead of three. Each round trip cost a context switch
    # on both sides, more than a third of an order detail under load (docs/benchmarks.md,
    # round 3). Other databases keep attach_details's two reads.
    if connections[queryset.db].vendor != "postgresql":
        return queryset
    return queryset.annotate(
        item_rows=_OrderDetailsJSON(_ITEMS_JSON_SQL, ()),
        payment_rows=_OrderDetailsJSON(_payments_json_sql(), ()),
    )


class _OrderDetailsJSON(RawSQL):
    """A fixed subquery of ours whose {order} is the alias this query gives the orders table."""

    # Not the table's name: in a subquery or a self-join Django renames the table, and a
    # subquery matching the wrong alias would attach another order's lines and payments.
    # Nothing from the request reaches the SQL.
    def as_sql(self, compiler, connection):
        alias = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"({self.sql.format(order=alias)})", self.params


def _utc_text(column: str) -> str:
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"


_ITEMS_JSON_SQL = f"""
    SELECT coalesce(json_agg(json_build_object(
        'id', i.id, 'product_id', i.product_id, 'quantity', i.quantity,
        'unit_price', i.unit_price::text, 'total_price', i.total_price::text
    ) ORDER BY i.id), '[]')::text
    FROM {OrderItem._meta.db_table} i WHERE i.order_id = {{order}}.id
"""  # noqa: S608 - our own table names only


@cache
def _payments_json_sql() -> str:
    # Built once, on first use rather than at import: the payment table is named through the
    # relation (orders never imports payments), which needs every app loaded.
    table = Order._meta.get_field("payments").related_model._meta.db_table
    return f"""
        SELECT coalesce(json_agg(json_build_object(
            'id', p.id, 'payment_method', p.payment_method, 'amount', p.amount::text,
            'currency', p.currency, 'status', p.status,
            'captured_amount', p.captured_amount::text,
            'refunded_amount', p.refunded_amount::text, 'metadata', p.metadata,
            'wallet', p.wallet, 'created_at', {_utc_text("p.created_at")}
        ) ORDER BY p.id), '[]')::text
        FROM {table} p WHERE p.order_id = {{order}}.id
    """  # noqa: S608 - our own table names only


def _loaded(value: str) -> list[dict]:
    return json_codec.loads(value)


def _item_from_row(row: dict) -> SimpleNamespace:
    return SimpleNamespace(
        pk=row["id"],
        product_id=row["product_id"],
        quantity=row["quantity"],
        unit_price=Decimal(row["unit_price"]),
        total_price=Decimal(row["total_price"]),
    )


def _payment_from_row(row: dict) -> SimpleNamespace:
    return SimpleNamespace(
        pk=row["id"],
        payment_method=row["payment_method"],
        amount=Decimal(row["amount"]),
        currency=row["currency"],
        status=row["status"],
        captured_amount=Decimal(row["captured_amount"]),
        refunded_amount=Decimal(row["refunded_amount"]),
        metadata=row["metadata"],
        wallet=row["wallet"],
        created_at=datetime.fromisoformat(row["created_at"]).replace(tzinfo=UTC),
    )


def attach_details(orders: list[Order]) -> list[Order]:
    """Attach the orders' lines and payments as lists, from with_details's JSON or read."""
    # The reads are two plain `order_id IN (...)` statements instead of prefetch_related:
    # Django's prefetch builds its querysets from the instances, which cost more than running
    # them (a quarter of an order detail, docs/benchmarks.md). Payments are read through the
    # relation (orders never imports payments) with the columns an order shows.
    if not orders:
        return orders
    if hasattr(orders[0], "item_rows"):
        for order in orders:
            order.item_list = [_item_from_row(row) for row in _loaded(order.item_rows)]
            order.payment_list = [_payment_from_row(row) for row in _loaded(order.payment_rows)]
        return orders
    ids = [order.pk for order in orders]
    payment_model = Order._meta.get_field("payments").related_model
    items = _group_by_order(OrderItem.objects.filter(order_id__in=ids).order_by("pk"))
    payments = _group_by_order(
        payment_model.objects.filter(order_id__in=ids).only(*PAYMENT_SUMMARY_FIELDS).order_by("pk")
    )
    for order in orders:
        order.item_list = items.get(order.pk, [])
        order.payment_list = payments.get(order.pk, [])
    return orders


def _group_by_order(rows) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row.order_id, []).append(row)
    return grouped
