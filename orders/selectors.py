"""Reads of orders and products, scoped to what the caller may see."""

from django.db import connections
from django.db.models import QuerySet

from gamarriando.json_sql import RowJSON
from orders.models import Order, OrderItem, Product
from orders.representation_sql import order_json_sql

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
    """On PostgreSQL, read each order already rendered as the contract's JSON, in its statement."""
    # The lines and payments come as correlated subqueries of the same statement, so an order
    # page is one statement instead of three (each round trip cost a context switch on both
    # sides, a third of an order detail under load), and PostgreSQL writes the JSON instead of
    # Python building objects to turn them back into text (half of an order list):
    # orders/representation_sql.py. The columns read beside it are the ones a view may still
    # ask of the object (its owner, its created_at). Other databases read and render in
    # Python (attach_details, representations.order_data); list pages use rendered_rows.
    if connections[queryset.db].vendor != "postgresql":
        return queryset
    return queryset.only("id", "user_id", "created_at").annotate(
        rendered=RowJSON(order_json_sql(), ())
    )


def rendered_rows(queryset: QuerySet[Order]) -> QuerySet:
    """On PostgreSQL, a list page's rows as {created_at, rendered} dicts: no models at all."""
    # The cursor paginates on created_at, which it reads from a dict as from a model.
    detailed = with_details(queryset)
    if "rendered" not in detailed.query.annotations:  # not PostgreSQL: models, read and rendered
        return detailed
    return detailed.values("created_at", "rendered")


def attach_details(orders: list[Order]) -> list[Order]:
    """Read the orders' lines and payments and attach them as lists (item_list, payment_list)."""
    # The reads are two plain `order_id IN (...)` statements instead of prefetch_related:
    # Django's prefetch builds its querysets from the instances, which cost more than running
    # them (a quarter of an order detail, docs/benchmarks.md). Payments are read through the
    # relation (orders never imports payments) with the columns an order shows.
    if not orders or isinstance(orders[0], dict) or hasattr(orders[0], "rendered"):
        return orders  # PostgreSQL rendered them: nothing to read
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
