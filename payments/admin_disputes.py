"""Admin of disputes: read-only (the gateway's word), open ones first by their evidence deadline."""

from django.contrib import admin
from django.db.models import F
from django.urls import reverse
from django.utils.html import format_html

from gamarriando.admin import AmountsInCurrency, ReadOnlyAdmin
from payments.models import Dispute


@admin.register(Dispute)
class DisputeAdmin(AmountsInCurrency, ReadOnlyAdmin):
    list_display = [
        "gateway_dispute_id",
        "status",
        "evidence_due_by",
        "amount",
        "currency",
        "payment_link",
        "reason",
        "closed_at",
    ]
    list_filter = ["status", "gateway", "currency"]
    search_fields = [
        "gateway_dispute_id",
        "payment__order__order_number",
        "payment__order__user__email",
    ]
    list_select_related = ["payment"]
    # Open ones (not closed) first, each group by its evidence deadline, nearest first.
    ordering = [F("closed_at").asc(nulls_first=True), F("evidence_due_by").asc(nulls_last=True)]

    @admin.display(description="payment", ordering="payment_id")
    def payment_link(self, dispute):
        url = reverse("admin:payments_payment_change", args=[dispute.payment_id])
        return format_html('<a href="{}">{}</a>', url, dispute.payment_id)
