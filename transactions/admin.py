"""Admin of the ledger: read-only for everyone, superusers included."""

from django.contrib import admin

from gamarriando.admin import AmountsInCurrency, ReadOnlyAdmin
from transactions.models import Transaction


@admin.register(Transaction)
class TransactionAdmin(AmountsInCurrency, ReadOnlyAdmin):
    list_display = [
        "id",
        "payment",
        "transaction_type",
        "amount",
        "currency",
        "status",
        "gateway_transaction_id",
        "created_by",
        "created_at",
    ]
    list_filter = [
        "transaction_type",
        "status",
        "currency",
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = [
        "gateway_transaction_id",
        "payment__order__order_number",
        "payment__order__user__email",
    ]
    list_select_related = ["payment", "created_by"]
    date_hierarchy = "created_at"
