"""Admin of the shared models (idempotency keys, outbox, dead letters) and the read-only bases."""

from functools import reduce

from django.contrib import admin, messages
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import HttpResponseRedirect

from gamarriando import money
from gamarriando.dead_letters import (
    DeadLetter,
    DeadLetterStatus,
    OperationsPermission,
    dead_letter_discard,
    dead_letter_retry,
)
from gamarriando.errors import PermissionDeniedError, ServiceUnavailable
from gamarriando.events import OutboxEvent
from gamarriando.idempotency import IdempotencyKey


def amount_column(name: str, currency_path: str, description: str, ordering: str | None):
    """Return an admin column that shows `name` in its row's currency decimals."""

    def column(obj):
        value = getattr(obj, name)
        if value is None:
            return None
        currency = reduce(getattr, currency_path.split("__"), obj)
        if currency not in money.CURRENCY_EXPONENTS:
            return str(value)  # a product's currency staff mistyped: shown as stored, not a 500
        return money.format_amount(value, currency)

    column.__name__ = f"{name}_in_currency"
    column.short_description = description
    if ordering:
        column.admin_order_field = ordering
    return column


class AmountsInCurrency:
    """Show a model's money in its row's currency decimals: JPY 1500, not the column's 1500.00.

    The admin renders a DecimalField with the column's two places whatever the currency. This
    swaps every read-only money column (and `extra_amounts`, properties such as balance_due)
    for one formatted by gamarriando.money, in lists, detail pages and inlines alike; an
    editable amount (a product's price on its form) stays the form's input.
    """

    currency_path = "currency"  # from a row to its currency, e.g. "order__currency"
    extra_amounts: tuple[str, ...] = ()

    def _amount_columns(self) -> dict:
        columns = self.__dict__.get("_amount_columns_cache")
        if columns is None:
            fields = {
                field.name: field
                for field in self.model._meta.fields
                if isinstance(field, models.DecimalField)
            }
            columns = {
                name: amount_column(
                    name,
                    self.currency_path,
                    str(fields[name].verbose_name) if name in fields else name.replace("_", " "),
                    name if name in fields else None,
                )
                for name in [*fields, *self.extra_amounts]
            }
            self._amount_columns_cache = columns
        return columns

    def _swap(self, names, only=None):
        columns = self._amount_columns()
        return [
            columns[name]
            if isinstance(name, str) and name in columns and (only is None or name in only)
            else name
            for name in names
        ]

    def _read_only_names(self, request, obj=None) -> set:
        """Money fields shown read-only here as their formatted column (all, on a view page)."""
        if obj is not None and not self.has_change_permission(request, obj):
            return set(self._amount_columns())
        return self._swapped_read_only(request, obj)

    def _swapped_read_only(self, request, obj=None) -> set:
        names = {column: name for name, column in self._amount_columns().items()}
        return {names[f] for f in self.get_readonly_fields(request, obj) if f in names}

    def get_queryset(self, request):
        # The rows' currencies come with them (an inline's rows name their parent by id only).
        relation = self.currency_path.rpartition("__")[0]
        queryset = super().get_queryset(request)
        return queryset.select_related(relation) if relation else queryset

    def get_list_display(self, request):
        return self._swap(super().get_list_display(request))

    def get_readonly_fields(self, request, obj=None):
        return self._swap(super().get_readonly_fields(request, obj))

    def get_exclude(self, request, obj=None):
        # A swapped read-only column no longer names its field, so keep the field out of the
        # form by name, or it would come back as an input.
        excluded = super().get_exclude(request, obj)
        swapped = self._swapped_read_only(request, obj)
        return [*(excluded or []), *swapped] if swapped else excluded

    def get_fields(self, request, obj=None):
        return self._swap(super().get_fields(request, obj), self._read_only_names(request, obj))

    def get_fieldsets(self, request, obj=None):
        only = self._read_only_names(request, obj)
        return [
            (title, {**options, "fields": self._swap(options["fields"], only)})
            for title, options in super().get_fieldsets(request, obj)
        ]


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent: never added, changed or deleted from the admin."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


RANGE_BOUNDS = ("__gte", "__gt", "__lte", "__lt")
VALUE_LOOKUPS = (*RANGE_BOUNDS, "__exact")


class ExplainsDroppedFilters:
    """Say so when a list dropped filters it could not use; Django shows every row silently."""

    def _unusable(self, key: str, value: str) -> bool:
        """Tell whether a field's range or exact filter holds a value its field cannot read."""
        lookup = next((end for end in VALUE_LOOKUPS if key.endswith(end)), None)
        if lookup is None:
            return False
        try:
            field = get_fields_from_path(self.model, key.removesuffix(lookup))[-1]
        except (FieldDoesNotExist, NotRelationField):
            return False  # a transform or a parameter of another kind: Django's to judge
        if not isinstance(field, models.Field) or field.is_relation:
            return False
        try:
            field.to_python(value)
        except ValidationError:
            return True
        return False

    def changelist_view(self, request, extra_context=None):
        # A range form sends its empty box too ("from" given, "to" left empty): an open end,
        # not a bad value that would make Django drop every filter of the list.
        query = request.GET.copy()
        for key in [key for key in query if key.endswith(RANGE_BOUNDS)]:
            kept = [value for value in query.getlist(key) if value.strip()]
            if kept:
                query.setlist(key, kept)
            else:
                del query[key]
        # Django drops every filter of a list when one holds a value its field cannot read (a
        # date that is not one); drop only that one, and say which.
        for key in list(query):
            if any(self._unusable(key, value) for value in query.getlist(key)):
                messages.warning(
                    request,
                    f"The filter {key} = “{query[key]}” is not a value this list can use; it was "
                    "dropped and the other filters kept.",
                )
                del query[key]
        if request.method == "GET" and query != request.GET:
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
        if ERROR_FLAG in request.GET:  # where Django redirects a list with an unusable filter
            messages.warning(
                request,
                "A filter in the address had a value this list cannot use (a date or an "
                "amount that is not one), so every row is shown; set the filters again.",
            )
        return super().changelist_view(request, extra_context)


class ReadOnlyAdmin(ExplainsDroppedFilters, admin.ModelAdmin):
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
        done = 0
        try:
            for letter in letters:
                service(letter, actor=request.user)
                done += 1
        except (PermissionDeniedError, ServiceUnavailable) as exc:
            if done:
                self.message_user(request, f"{verb} {done} task(s).")
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"{verb} {done} task(s).")
