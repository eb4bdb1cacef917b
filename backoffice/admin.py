"""Admin registrations for every model staff work with; money is never editable by hand."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html

from backoffice import views
from backoffice.timeline import order_timeline
from gamarriando.dead_letters import DeadLetter, dead_letter_discard, dead_letter_retry
from gamarriando.errors import ApplicationError
from gamarriando.events import OutboxEvent
from gamarriando.idempotency import IdempotencyKey
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from notifications.services import delivery_redeliver
from orders.models import Order, OrderItem, OrderStatus, OrderStatusHistory, Product
from orders.services import order_update
from payments.models import Payment, PaymentStatusHistory, StripeWebhookEvent
from transactions.models import Transaction


class ReadOnlyInline(admin.TabularInline):
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


# -- catalog --------------------------------------------------------------------


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "currency", "stock", "is_active", "created_at"]
    list_filter = ["is_active", "currency"]
    search_fields = ["sku", "name"]
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None):
        return False  # order lines point at products; retire them with is_active


# -- orders ---------------------------------------------------------------------


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = readonly_fields = ["product", "quantity", "unit_price", "total_price"]


class OrderPaymentInline(ReadOnlyInline):
    model = Payment
    fields = readonly_fields = [
        "payment_link",
        "payment_method",
        "amount",
        "status",
        "captured_amount",
        "refunded_amount",
        "created_at",
    ]

    @admin.display(description="payment")
    def payment_link(self, payment):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:payments_payment_change", args=[payment.pk]),
            payment.pk,
        )


class OrderStatusHistoryInline(ReadOnlyInline):
    model = OrderStatusHistory
    fields = readonly_fields = ["from_status", "to_status", "actor", "reason", "created_at"]


def _fulfil(status):
    @admin.action(description=f"Move selected orders to {status}", permissions=["change"])
    def action(modeladmin, request, queryset):
        moved = 0
        for order in queryset.order_by("pk"):
            try:
                order_update(order_id=order.pk, actor=request.user, data={"status": status})
                moved += 1
            except ApplicationError as exc:
                messages.error(request, f"{order.order_number}: {exc.message}")
        if moved:
            messages.success(request, f"{moved} order(s) moved to {status}.")

    action.__name__ = f"move_to_{status}"
    return action


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "order_number",
        "customer",
        "status",
        "total_amount",
        "amount_paid",
        "amount_refunded",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "currency", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["order_number", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline, OrderPaymentInline, OrderStatusHistoryInline]
    actions = [
        _fulfil(OrderStatus.PROCESSING),
        _fulfil(OrderStatus.SHIPPED),
        _fulfil(OrderStatus.DELIVERED),
    ]
    readonly_fields = [
        "user",
        "order_number",
        "status",
        "currency",
        "total_amount",
        "amount_paid",
        "amount_refunded",
        "balance_due",
        "shipping_address",
        "billing_address",
        "notes",
        "expires_at",
        "cancel_reason",
        "created_at",
        "updated_at",
        "timeline",
    ]
    fieldsets = [
        (None, {"fields": ["order_number", "user", "status", "cancel_reason", "expires_at"]}),
        (
            "Money",
            {
                "fields": [
                    "currency",
                    "total_amount",
                    "amount_paid",
                    "amount_refunded",
                    "balance_due",
                ]
            },
        ),
        ("Addresses", {"fields": ["shipping_address", "billing_address", "notes"]}),
        ("Timeline", {"fields": ["timeline"]}),
    ]
    change_form_template = "admin/backoffice/order_change_form.html"

    @admin.display(ordering="user__email")
    def customer(self, order):
        return order.user.email

    @admin.display(description="payment timeline")
    def timeline(self, order):
        return render_to_string(
            "admin/backoffice/timeline.html", {"entries": order_timeline(order)}
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:order_id>/cancel/",
                self.admin_site.admin_view(views.order_cancel_view),
                name="orders_order_cancel",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            "can_cancel": request.user.has_perm("orders.change_order"),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)


# -- payments -------------------------------------------------------------------


class TransactionInline(ReadOnlyInline):
    model = Transaction
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


class PaymentStatusHistoryInline(ReadOnlyInline):
    model = PaymentStatusHistory
    fields = readonly_fields = ["from_status", "to_status", "actor", "reason", "created_at"]


class AmountRangeFilter(admin.SimpleListFilter):
    title = "amount"
    parameter_name = "amount_range"
    RANGES = {
        "lt50": (None, 50),
        "50-200": (50, 200),
        "200-1000": (200, 1000),
        "gte1000": (1000, None),
    }

    def lookups(self, request, model_admin):
        return [
            ("lt50", "< 50"),
            ("50-200", "50 – 200"),
            ("200-1000", "200 – 1000"),
            ("gte1000", "≥ 1000"),
        ]

    def queryset(self, request, queryset):
        low, high = self.RANGES.get(self.value(), (None, None))
        if low is not None:
            queryset = queryset.filter(amount__gte=low)
        if high is not None:
            queryset = queryset.filter(amount__lt=high)
        return queryset


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "order",
        "customer",
        "payment_method",
        "amount",
        "currency",
        "status",
        "captured_amount",
        "refunded_amount",
        "disputed",
        "created_at",
    ]
    list_filter = [
        "status",
        "payment_method",
        "currency",
        "disputed",
        AmountRangeFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["order__order_number", "order__user__email", "gateway_transaction_id"]
    list_select_related = ["order__user"]
    date_hierarchy = "created_at"
    inlines = [TransactionInline, PaymentStatusHistoryInline]
    exclude = ["payment_method_token"]
    actions = ["refund_selected", "reconcile_selected"]
    change_form_template = "admin/backoffice/payment_change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Payment._meta.fields if f.name != "payment_method_token"]

    @admin.display(ordering="order__user__email")
    def customer(self, payment):
        return payment.order.user.email

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_refund_permission(self, request):
        return request.user.has_perm("payments.refund_payment")

    def has_reconcile_permission(self, request):
        return request.user.has_perm("payments.refund_payment") or request.user.has_perm(
            "payments.capture_payment"
        )

    @admin.action(description="Refund the selected payment…", permissions=["refund"])
    def refund_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one payment to refund.", messages.ERROR)
            return None
        return redirect("admin:payments_payment_refund", queryset.get().pk)

    @admin.action(description="Reconcile now with the gateway", permissions=["reconcile"])
    def reconcile_selected(self, request, queryset):
        asked = sum(views.reconcile_payment(request, payment) for payment in queryset)
        self.message_user(request, f"Asked the gateway about {asked} pending operation(s).")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:payment_id>/refund/",
                wrap(views.payment_operation_view),
                {"operation_name": "refund"},
                name="payments_payment_refund",
            ),
            path(
                "<int:payment_id>/capture/",
                wrap(views.payment_operation_view),
                {"operation_name": "capture"},
                name="payments_payment_capture",
            ),
            path(
                "<int:payment_id>/void/",
                wrap(views.payment_operation_view),
                {"operation_name": "void"},
                name="payments_payment_void",
            ),
            path(
                "<int:payment_id>/reconcile/",
                wrap(views.reconcile_view),
                name="payments_payment_reconcile",
            ),
            path("dashboard/", wrap(views.dashboard_view), name="payments_dashboard"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        user = request.user
        extra = {
            "can_refund": user.has_perm("payments.refund_payment"),
            "can_capture": user.has_perm("payments.capture_payment"),
            "can_reconcile": self.has_reconcile_permission(request),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)


# -- ledger and plumbing --------------------------------------------------------


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
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


@admin.register(StripeWebhookEvent)
class StripeWebhookEventAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "type",
        "status",
        "attempts",
        "stripe_created",
        "received_at",
        "processed_at",
    ]
    list_filter = ["status", "type", "livemode"]
    search_fields = ["=id", "type"]
    date_hierarchy = "received_at"
    actions = ["reprocess"]

    def has_reprocess_permission(self, request):
        return request.user.has_perm("payments.refund_payment")

    @admin.action(description="Reprocess the selected events", permissions=["reprocess"])
    def reprocess(self, request, queryset):
        from payments.tasks import process_stripe_event

        ids = list(queryset.exclude(status="processed").values_list("pk", flat=True))
        for event_id in ids:
            process_stripe_event.delay(event_id=event_id)
        self.message_user(request, f"Sent {len(ids)} event(s) for processing again.")


admin.site.site_header = "Gamarriando Payments — back office"
admin.site.site_title = "Gamarriando back office"
admin.site.index_template = "admin/backoffice/index.html"


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
        return request.user.has_perm("payments.refund_payment")

    has_discard_permission = has_retry_permission

    @admin.action(description="Retry the selected tasks", permissions=["retry"])
    def retry(self, request, queryset):
        letters = list(queryset.filter(status="open"))
        for letter in letters:
            dead_letter_retry(letter)
        self.message_user(request, f"Retried {len(letters)} task(s).")

    @admin.action(description="Discard the selected tasks", permissions=["discard"])
    def discard(self, request, queryset):
        letters = list(queryset.filter(status="open"))
        for letter in letters:
            dead_letter_discard(letter)
        self.message_user(request, f"Discarded {len(letters)} task(s).")


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
        return request.user.has_perm("payments.refund_payment")  # Finance runs operations

    @admin.action(description="Redeliver the selected events now", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        deliveries = list(queryset)
        for delivery in deliveries:
            delivery_redeliver(delivery)
        self.message_user(request, f"Redelivering {len(deliveries)} event(s).")
