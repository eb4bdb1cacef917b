"""Admin for payments."""

from django.contrib import admin

from payments.models import Payment, PaymentStatusHistory
from transactions.models import Transaction


class TransactionInline(admin.TabularInline):
    model = Transaction
    extra = 0
    can_delete = False
    fields = readonly_fields = [
        "transaction_type",
        "amount",
        "currency",
        "status",
        "gateway_transaction_id",
        "failure_reason",
        "reason",
        "created_by",
        "processed_at",
        "created_at",
    ]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PaymentStatusHistoryInline(admin.TabularInline):
    model = PaymentStatusHistory
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "reason", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "order",
        "payment_method",
        "amount",
        "currency",
        "status",
        "captured_amount",
        "refunded_amount",
        "created_at",
    ]
    list_filter = ["status", "payment_method", "currency", "disputed", "created_at"]
    search_fields = ["order__order_number", "order__user__email", "gateway_transaction_id"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    inlines = [TransactionInline, PaymentStatusHistoryInline]
    exclude = ["payment_method_token"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Payment._meta.fields if f.name != "payment_method_token"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
