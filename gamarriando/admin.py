"""Admin of the shared models (idempotency keys, outbox, dead letters) and the read-only bases."""

from django.contrib import admin, messages

from gamarriando.dead_letters import (
    DeadLetter,
    DeadLetterStatus,
    OperationsPermission,
    dead_letter_discard,
    dead_letter_retry,
)
from gamarriando.errors import PermissionDeniedError
from gamarriando.events import OutboxEvent
from gamarriando.idempotency import IdempotencyKey


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent: never added, changed or deleted from the admin."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and details only: no add, change or delete for anyone, superusers included."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def may_run_operations(request) -> bool:
    """Tell whether the signed-in user may reprocess, retry or redeliver."""
    return request.user.has_perm(OperationsPermission.RUN)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["key", "user", "method", "path", "response_status", "created_at"]
    search_fields = ["key", "user__email", "path"]
    list_filter = ["method", "response_status"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser  # to free a key a client must reuse


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["type", "order_id", "created_at", "dispatched_at", "attempts"]
    list_filter = ["type", ("dispatched_at", admin.EmptyFieldListFilter)]
    search_fields = ["=id", "type", "=order_id"]
    date_hierarchy = "created_at"


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = [
        "task_name",
        "status",
        "attempts",
        "first_failed_at",
        "last_failed_at",
        "error_excerpt",
    ]
    list_filter = ["status", "task_name"]
    search_fields = ["task_name", "=task_id", "error"]
    date_hierarchy = "last_failed_at"
    actions = ["retry", "discard"]

    @admin.display(description="error")
    def error_excerpt(self, letter):
        return letter.error[:120]

    def has_retry_permission(self, request):
        return may_run_operations(request)

    has_discard_permission = has_retry_permission

    @admin.action(description="Retry the selected tasks", permissions=["retry"])
    def retry(self, request, queryset):
        self._resolve(request, queryset, dead_letter_retry, "Retried")

    @admin.action(description="Discard the selected tasks", permissions=["discard"])
    def discard(self, request, queryset):
        self._resolve(request, queryset, dead_letter_discard, "Discarded")

    def _resolve(self, request, queryset, service, verb: str) -> None:
        letters = list(queryset.filter(status=DeadLetterStatus.OPEN).order_by("pk"))
        try:
            for letter in letters:
                service(letter, actor=request.user)
        except PermissionDeniedError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"{verb} {len(letters)} task(s).")
