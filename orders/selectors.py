"""Reads of orders and products, scoped to what the caller may see."""

from django.db.models import Prefetch, QuerySet

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


def order_with_details(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """Prefetch lines and payments as lists (through the relation: orders never imports payments).

    to_attr lists, not the related managers' caches: Django builds a filtered queryset per
    order for the latter, which cost more than the two prefetch queries on a page of 20.
    """
    payment_model = Order._meta.get_field("payments").related_model
    return queryset.prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("pk"), to_attr="item_list"),
        Prefetch(
            "payments",
            queryset=payment_model.objects.only(*PAYMENT_SUMMARY_FIELDS).order_by("pk"),
            to_attr="payment_list",
        ),
    )
