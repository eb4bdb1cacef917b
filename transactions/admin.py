"""Admin for the ledger: read-only for everyone, superusers included."""

from django.contrib import admin

from transactions.models import Transaction


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "payment",
        "transaction_type",
        "amount",
        "currency",
        "status",
        "gateway_transaction_id",
        "created_at",
    ]
    list_filter = ["transaction_type", "status", "currency", "created_at"]
    search_fields = ["gateway_transaction_id", "payment__order__order_number"]
    list_select_related = ["payment"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
