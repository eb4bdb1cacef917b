"""Admin of outgoing webhooks: subscriptions, deliveries and their attempts."""

from django.contrib import admin, messages

from gamarriando.admin import ReadOnlyAdmin, ReadOnlyInline, may_run_operations
from gamarriando.errors import PermissionDeniedError
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from notifications.services import delivery_redeliver


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = readonly_fields = [
        "attempted_at",
        "status_code",
        "latency_ms",
        "response_excerpt",
        "error",
    ]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "is_active", "consecutive_failures", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url"]
    readonly_fields = ["consecutive_failures", "disabled_at", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "subscription",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    ]
    list_filter = ["status", "subscription"]
    search_fields = ["=event__id", "subscription__url"]
    list_select_related = ["event", "subscription"]
    date_hierarchy = "created_at"
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_redeliver_permission(self, request):
        return may_run_operations(request)

    @admin.action(description="Redeliver the selected events now", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        deliveries = list(queryset.order_by("pk"))
        try:
            for delivery in deliveries:
                delivery_redeliver(delivery, actor=request.user)
        except PermissionDeniedError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Redelivering {len(deliveries)} event(s).")
