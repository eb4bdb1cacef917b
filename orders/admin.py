"""Admin of the catalog and of orders; money is never editable by hand.

The order page's payments inline comes from payments/admin.py (orders does not know payments);
its cancel button and timeline come from the back office, by URL name and template tag, in
templates/admin/orders/order/change_form.html.
"""

from django.contrib import admin, messages

from gamarriando.admin import AmountsInCurrency, ExplainsDroppedFilters, ReadOnlyInline
from gamarriando.errors import ApplicationError
from orders.models import Order, OrderItem, OrderStatus, OrderStatusHistory, Product
from orders.services import order_update


@admin.register(Product)
class ProductAdmin(AmountsInCurrency, admin.ModelAdmin):
    list_display = ["sku", "name", "price", "currency", "stock", "is_active", "created_at"]
    list_filter = ["is_active", "currency"]
    search_fields = ["sku", "name"]
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None):
        return False  # order lines point at products; retire them with is_active


class OrderItemInline(AmountsInCurrency, ReadOnlyInline):
    model = OrderItem
    currency_path = "order__currency"
    fields = readonly_fields = ["product", "quantity", "unit_price", "total_price"]


class OrderStatusHistoryInline(ReadOnlyInline):
    model = OrderStatusHistory
    fields = readonly_fields = ["from_status", "to_status", "actor", "reason", "created_at"]


def _fulfil(status):
    @admin.action(description=f"Move selected orders to {status}", permissions=["change"])
    def action(modeladmin, request, queryset):
        moved = 0
        for order in queryset.order_by("pk"):
            try:
                order_update(order_id=order.pk, actor=request.user, data={"status": status})
                moved += 1
            except ApplicationError as exc:
                messages.error(request, f"{order.order_number}: {exc.message}")
        if moved:
            messages.success(request, f"{moved} order(s) moved to {status}.")

    action.__name__ = f"move_to_{status}"
    return action


@admin.register(Order)
class OrderAdmin(ExplainsDroppedFilters, AmountsInCurrency, admin.ModelAdmin):
    extra_amounts = ("balance_due",)
    list_display = [
        "order_number",
        "customer",
        "status",
        "total_amount",
        "amount_paid",
        "amount_refunded",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "currency", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["order_number", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline, OrderStatusHistoryInline]
    actions = [
        _fulfil(OrderStatus.PROCESSING),
        _fulfil(OrderStatus.SHIPPED),
        _fulfil(OrderStatus.DELIVERED),
    ]
    readonly_fields = [
        "user",
        "order_number",
        "status",
        "currency",
        "total_amount",
        "amount_paid",
        "amount_refunded",
        "balance_due",
        "shipping_address",
        "billing_address",
        "notes",
        "expires_at",
        "cancel_reason",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["order_number", "user", "status", "cancel_reason", "expires_at"]}),
        (
            "Money",
            {
                "fields": [
                    "currency",
                    "total_amount",
                    "amount_paid",
                    "amount_refunded",
                    "balance_due",
                ]
            },
        ),
        ("Addresses", {"fields": ["shipping_address", "billing_address", "notes"]}),
    ]

    @admin.display(ordering="user__email")
    def customer(self, order):
        return order.user.email

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            "can_cancel": request.user.has_perm("orders.change_order"),
            # Every field is read-only: orders move by their actions and the cancel screen.
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)
