"""Reads of orders and products, scoped to what the caller may see."""

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderItem, Product


def product_list_active() -> QuerySet[Product]:
    """Return the products a storefront may sell."""
    return Product.objects.filter(is_active=True)


def order_visible_to(user) -> QuerySet[Order]:
    """Return the orders the user may see: all with staff's orders.view_order, else their own."""
    queryset = Order.objects.all()
    if not (user.is_staff and user.has_perm("orders.view_order")):
        queryset = queryset.filter(user=user)
    return queryset


def order_with_details(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """Prefetch lines and payments (through the relation: orders never imports payments)."""
    payment_model = Order._meta.get_field("payments").related_model
    return queryset.prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("pk")),
        Prefetch("payments", queryset=payment_model.objects.order_by("pk")),
    )
