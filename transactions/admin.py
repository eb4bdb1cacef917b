"""Admin of the ledger: read-only for everyone, superusers included."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from gamarriando.admin import AmountsInCurrency, ReadOnlyAdmin
from transactions.models import Transaction


@admin.register(Transaction)
class TransactionAdmin(AmountsInCurrency, ReadOnlyAdmin):
    list_display = [
        "id",
        "payment_link",
        "transaction_type",
        "status",
        "amount",
        "currency",
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

    @admin.display(description="payment", ordering="payment_id")
    def payment_link(self, row):
        # The id only: the payment's own text (amount, status) made the column the widest.
        url = reverse("admin:payments_payment_change", args=[row.payment_id])
        return format_html('<a href="{}">{}</a>', url, row.payment_id)
