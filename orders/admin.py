"""Admin for the catalog and orders."""

from django.contrib import admin

from orders.models import Order, OrderItem, OrderStatusHistory, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "currency", "stock", "is_active"]
    list_filter = ["is_active", "currency"]
    search_fields = ["sku", "name"]


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    readonly_fields = ["product", "quantity", "unit_price", "total_price"]

    def has_add_permission(self, request, obj=None):
        return False


class OrderStatusHistoryInline(admin.TabularInline):
    model = OrderStatusHistory
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "reason", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "order_number",
        "user",
        "status",
        "total_amount",
        "amount_paid",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "currency", "created_at"]
    search_fields = ["order_number", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline, OrderStatusHistoryInline]
    readonly_fields = [
        "user",
        "order_number",
        "status",
        "currency",
        "total_amount",
        "amount_paid",
        "amount_refunded",
        "expires_at",
        "cancel_reason",
        "created_at",
        "updated_at",
    ]
    fields = [
        *readonly_fields[:-2],
        "shipping_address",
        "billing_address",
        "notes",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
