"""Admin for idempotency keys and the outbox."""

from django.contrib import admin

from gamarriando.events import OutboxEvent
from gamarriando.idempotency import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "user", "method", "path", "response_status", "created_at"]
    search_fields = ["key", "user__email", "path"]
    list_filter = ["method", "response_status"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["type", "order_id", "created_at", "dispatched_at", "attempts"]
    list_filter = ["type", "dispatched_at"]
    search_fields = ["id", "type"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
