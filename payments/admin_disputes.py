"""Admin of disputes: read-only (the gateway's word), open ones first by their evidence deadline."""

from django.contrib import admin

from gamarriando.admin import ReadOnlyAdmin
from payments.models import Dispute


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = [
        "gateway_dispute_id",
        "payment",
        "amount",
        "currency",
        "reason",
        "status",
        "evidence_due_by",
        "closed_at",
    ]
    list_filter = ["status", "gateway", "currency"]
    search_fields = ["gateway_dispute_id", "payment__order__order_number"]
    list_select_related = ["payment"]
    ordering = ["closed_at", "evidence_due_by"]
