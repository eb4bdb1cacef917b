"""Admin of payments and stored Stripe events; money is never editable by hand.

The Refund, Capture, Void and Reconcile buttons of the payment page link to the back office's
screens by URL name (templates/admin/payments/payment/change_form.html).
"""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from gamarriando.admin import (
    AmountsInCurrency,
    ExplainsDroppedFilters,
    ReadOnlyAdmin,
    ReadOnlyInline,
    may_run_operations,
)
from gamarriando.errors import ApplicationError
from gamarriando.money import CURRENCY_EXPONENTS, exponent, with_currency
from orders.admin import OrderAdmin, OrderItemInline, OrderStatusHistoryInline
from orders.models import Order
from payments import rules
from payments.admin_saved_methods import describe_saved_method
from payments.models import (
    Payment,
    PaymentStatusHistory,
    PayPalWebhookEvent,
    StripeWebhookEvent,
)
from payments.paypal.events import paypal_events_reprocess
from payments.permissions import PaymentPermission
from payments.saved_selectors import describe
from payments.services import payment_reconcile_request
from payments.stripe.events import stripe_events_reprocess
from transactions.models import Transaction


class OrderPaymentInline(AmountsInCurrency, ReadOnlyInline):
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


# orders may not import payments, so the order page gets its payments inline from here.
admin.site.unregister(Order)


@admin.register(Order)
class OrderWithPaymentsAdmin(OrderAdmin):
    inlines = [OrderItemInline, OrderPaymentInline, OrderStatusHistoryInline]


class TransactionInline(AmountsInCurrency, ReadOnlyInline):
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
    """Amount buckets of one currency: offered once a currency is chosen, never across them."""

    title = "amount"
    parameter_name = "amount_range"
    # In the currency's major units for two-decimal currencies; scaled for one without
    # decimals (JPY's buckets are a hundred times larger), never converted between currencies.
    RANGES = {
        "lt50": (None, 50),
        "50-200": (50, 200),
        "200-1000": (200, 1000),
        "gte1000": (1000, None),
    }

    def _currency(self, request) -> str | None:
        currency = request.GET.get("currency__exact") or request.GET.get("currency")
        return currency if currency in CURRENCY_EXPONENTS else None

    def _bounds(self, key: str, currency: str):
        scale = 10 ** (2 - exponent(currency))
        return tuple(None if bound is None else bound * scale for bound in self.RANGES[key])

    def lookups(self, request, model_admin):
        currency = self._currency(request)
        if currency is None:
            return []  # no buckets, so the filter is not shown
        choices = []
        for key in self.RANGES:
            low, high = self._bounds(key, currency)
            if low is None:
                choices.append((key, f"< {high} {currency}"))
            elif high is None:
                choices.append((key, f"≥ {low} {currency}"))
            else:
                choices.append((key, f"{low} – {high} {currency}"))
        return choices

    def queryset(self, request, queryset):
        currency = self._currency(request)
        if self.value() not in self.RANGES or currency is None:
            return queryset
        low, high = self._bounds(self.value(), currency)
        queryset = queryset.filter(currency=currency)
        if low is not None:
            queryset = queryset.filter(amount__gte=low)
        if high is not None:
            queryset = queryset.filter(amount__lt=high)
        return queryset


@admin.register(Payment)
class PaymentAdmin(ExplainsDroppedFilters, AmountsInCurrency, admin.ModelAdmin):
    # What a clerk reads first, first: the narrow list scrolls sideways only for the rest.
    # Disputed is a filter and a line on the payment's page.
    list_display = [
        "id",
        "order",
        "customer",
        "status",
        "amount",
        "currency",
        "refunded_amount",
        "captured_amount",
        "payment_method",
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
    # A refund's or capture's reference is found in the ledger's list (Transactions): joining
    # the ledger here would scan it on every search, and the CSV export with it.
    search_fields = ["order__order_number", "order__user__email", "gateway_transaction_id"]
    list_select_related = ["order__user"]
    date_hierarchy = "created_at"
    inlines = [TransactionInline, PaymentStatusHistoryInline]
    exclude = ["payment_method_token"]
    readonly_fields = [
        *(f.name for f in Payment._meta.fields if f.name != "payment_method_token"),
        "paid_with",
        "disputes_of_payment",
    ]
    actions = ["refund_selected", "reconcile_selected"]

    @admin.display(description="paid with (saved method, wallet)")
    def paid_with(self, payment):
        saved = payment.saved_payment_method
        method = describe(saved, None) if saved is not None else None
        parts = [describe_saved_method(method)] if method else []
        if payment.wallet:
            parts.append(f"wallet: {payment.wallet}")
        return "; ".join(parts) or "-"

    @admin.display(description="disputes")
    def disputes_of_payment(self, payment):
        rows = [
            format_html(
                '<a href="{}">{}</a>: {}, {}{}',
                reverse("admin:payments_dispute_change", args=[d.pk]),
                d.gateway_dispute_id,
                d.get_status_display().lower(),
                with_currency(d.amount, d.currency),
                f", evidence due {d.evidence_due_by:%Y-%m-%d %H:%M} UTC"
                if d.evidence_due_by and d.closed_at is None
                else "",
            )
            for d in payment.disputes.order_by("-pk")
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((row,) for row in rows)) or "-"

    @admin.display(ordering="order__user__email")
    def customer(self, payment):
        return payment.order.user.email

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_refund_permission(self, request):
        return request.user.has_perm(PaymentPermission.REFUND)

    def has_reconcile_permission(self, request):
        # Only hides the action and the button; payment_reconcile_request decides.
        return request.user.has_perm(PaymentPermission.REFUND) or request.user.has_perm(
            PaymentPermission.CAPTURE
        )

    @admin.action(description="Refund the selected payment…", permissions=["refund"])
    def refund_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one payment to refund.", messages.ERROR)
            return None
        return redirect("backoffice:payment_refund", queryset.get().pk)

    @admin.action(description="Reconcile now with the gateway", permissions=["reconcile"])
    def reconcile_selected(self, request, queryset):
        queued = 0
        try:
            for payment_id in queryset.order_by("pk").values_list("pk", flat=True):
                queued += payment_reconcile_request(payment_id=payment_id, actor=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Queued {queued} pending operation(s) for reconciliation.")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        user = request.user
        payment = Payment.objects.filter(pk=object_id).first()
        extra = {
            "can_refund": user.has_perm(PaymentPermission.REFUND),
            # From the ledger: a chargeback took money back that the columns still show captured.
            "has_refundable": payment is not None and rules.refundable(payment) > 0,
            "can_capture": user.has_perm(PaymentPermission.CAPTURE),
            "can_reconcile": self.has_reconcile_permission(request),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)


class ReprocessEventsAdmin(ReadOnlyAdmin):
    """A gateway's stored webhook events, with the operations action that applies them again."""

    actions = ["reprocess"]
    reprocess_events = None  # the gateway's events_reprocess service

    def has_reprocess_permission(self, request):
        return may_run_operations(request)

    @admin.action(description="Reprocess the selected events", permissions=["reprocess"])
    def reprocess(self, request, queryset):
        try:
            sent = self.reprocess_events(
                event_ids=list(queryset.values_list("pk", flat=True)), actor=request.user
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Sent {sent} event(s) for processing again.")


@admin.register(StripeWebhookEvent)
class StripeWebhookEventAdmin(ReprocessEventsAdmin):
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
    reprocess_events = staticmethod(stripe_events_reprocess)


@admin.register(PayPalWebhookEvent)
class PayPalWebhookEventAdmin(ReprocessEventsAdmin):
    list_display = [
        "id",
        "type",
        "status",
        "attempts",
        "paypal_created",
        "received_at",
        "processed_at",
    ]
    list_filter = ["status", "type"]
    search_fields = ["=id", "=resource_id", "type"]
    date_hierarchy = "received_at"
    reprocess_events = staticmethod(paypal_events_reprocess)


from payments import admin_disputes  # noqa: E402,F401  (registers the Dispute admin)
