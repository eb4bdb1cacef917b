"""Money screens of the admin: refund, capture, void, cancel order, reconcile, dashboard.

Each screen shows the facts, asks, confirms, calls the same service as the API and shows
the outcome. A form's nonce is claimed in the same transaction as the operation, so a
double submission makes one refund, never two.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from backoffice import charts, dashboard
from backoffice.forms import CancelOrderForm, CaptureForm, RefundForm, VoidForm
from gamarriando.errors import ApplicationError
from gamarriando.idempotency import IdempotencyKey
from orders.models import Order
from orders.services import order_cancel
from payments import services
from payments.models import Payment
from payments.selectors import refundable_amount
from transactions.models import Transaction, TransactionStatus


class AlreadySubmitted(Exception):
    """The form's nonce was used before."""


def _claim_nonce(request, nonce, operation: str, object_id: int) -> None:
    """Record the form's nonce; a second claim of the same nonce raises AlreadySubmitted."""
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                user=request.user,
                key=f"admin-{operation}-{nonce}",
                method="POST",
                path=request.path,
                request_hash=f"{operation}:{object_id}",
                response_status=200,
            )
    except IntegrityError as exc:
        raise AlreadySubmitted from exc


@dataclass(frozen=True)
class Operation:
    name: str
    title: str
    permission: str
    form_class: type
    verb: str


OPERATIONS = {
    "refund": Operation(
        "refund", "Refund payment", "payments.refund_payment", RefundForm, "Refund"
    ),
    "capture": Operation(
        "capture", "Capture payment", "payments.capture_payment", CaptureForm, "Capture"
    ),
    "void": Operation("void", "Void authorization", "payments.capture_payment", VoidForm, "Void"),
}


def _facts(payment: Payment) -> dict:
    order = payment.order
    return {
        "order": order,
        "customer": order.user.email,
        "amount": payment.amount,
        "captured": payment.captured_amount,
        "refunded": payment.refunded_amount,
        "refundable": refundable_amount(payment),
        "capturable": payment.authorized_amount - payment.captured_amount,
    }


def _run(operation: Operation, payment: Payment, data: dict, user) -> Transaction | None:
    if operation.name == "refund":
        return services.payment_refund(
            payment_id=payment.pk, actor=user, amount=data["amount"], reason=data["reason"]
        )[1]
    if operation.name == "capture":
        return services.payment_capture(payment_id=payment.pk, actor=user, amount=data["amount"])[1]
    services.payment_cancel(payment_id=payment.pk, actor=user)
    return (
        Transaction.objects.filter(payment=payment, transaction_type="void").order_by("-pk").first()
    )


def _report(request, operation: Operation, txn: Transaction | None) -> None:
    if txn is None:
        messages.success(request, f"{operation.verb}: done.")
        return
    txn.refresh_from_db()
    text = f"{operation.verb} of {txn.amount} {txn.currency}: {txn.status}"
    if txn.status == TransactionStatus.FAILED:
        messages.error(
            request, f"{text} — the gateway declined ({txn.failure_reason or 'no reason given'})."
        )
    elif txn.status == TransactionStatus.PENDING:
        messages.warning(
            request, f"{text} — sent to the gateway; the ledger shows the outcome when it arrives."
        )
    else:
        messages.success(request, f"{text}.")


def payment_operation_view(request, payment_id: int, operation_name: str):
    """Show, confirm and perform a refund, capture or void on one payment."""
    operation = OPERATIONS[operation_name]
    if not request.user.has_perm(operation.permission):
        raise PermissionDenied
    payment = get_object_or_404(Payment.objects.select_related("order__user"), pk=payment_id)
    facts = _facts(payment)
    change_url = reverse("admin:payments_payment_change", args=[payment.pk])
    initial = {
        "amount": facts["refundable"] if operation.name == "refund" else facts["capturable"],
        "nonce": uuid.uuid4(),
    }
    form = operation.form_class(request.POST or None, initial=initial)
    confirming = False
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data.get("confirm"):
            confirming = True  # show the confirmation step with the same values
            form = operation.form_class(initial={**form.cleaned_data, "confirm": True})
        else:
            try:
                with transaction.atomic():
                    _claim_nonce(request, form.cleaned_data["nonce"], operation.name, payment.pk)
                    txn = _run(operation, payment, form.cleaned_data, request.user)
            except AlreadySubmitted:
                messages.warning(request, "This form was already submitted; nothing more was done.")
                return redirect(change_url)
            except ApplicationError as exc:
                messages.error(request, f"{exc.message} {_details(exc)}".strip())
            else:
                _report(request, operation, txn)
                return redirect(change_url)
    context = {
        **admin.site.each_context(request),
        "title": f"{operation.title} {payment.pk}",
        "operation": operation,
        "payment": payment,
        "facts": facts,
        "form": form,
        "confirming": confirming,
        "change_url": change_url,
        "opts": Payment._meta,
    }
    return TemplateResponse(request, "admin/backoffice/payment_operation.html", context)


def _details(exc: ApplicationError) -> str:
    return ", ".join(f"{key}: {value}" for key, value in exc.details.items())


def reconcile_payment(request, payment: Payment) -> int:
    """Ask the gateway about a payment's pending rows now; return how many were asked."""
    pending = list(
        payment.transactions.filter(status=TransactionStatus.PENDING).values_list("pk", flat=True)
    )
    for transaction_id in pending:
        try:
            services.payment_reconcile_transaction(transaction_id=transaction_id)
        except Exception as exc:  # noqa: BLE001 - shown to the clerk, the row stays pending
            messages.error(
                request, f"Payment {payment.pk}: the gateway could not be asked ({exc})."
            )
    return len(pending)


def reconcile_view(request, payment_id: int):
    """Reconcile one payment with its gateway, from the payment page."""
    if not (
        request.user.has_perm("payments.refund_payment")
        or request.user.has_perm("payments.capture_payment")
    ):
        raise PermissionDenied
    if request.method != "POST":
        return redirect(reverse("admin:payments_payment_change", args=[payment_id]))
    payment = get_object_or_404(Payment, pk=payment_id)
    asked = reconcile_payment(request, payment)
    payment.refresh_from_db()
    messages.info(
        request, f"Reconciled {asked} pending operation(s); the payment is {payment.status}."
    )
    return redirect(reverse("admin:payments_payment_change", args=[payment_id]))


def order_cancel_view(request, order_id: int):
    """Cancel an order with a reason; its payments are refunded or voided."""
    if not request.user.has_perm("orders.change_order"):
        raise PermissionDenied
    order = get_object_or_404(Order.objects.select_related("user"), pk=order_id)
    change_url = reverse("admin:orders_order_change", args=[order.pk])
    form = CancelOrderForm(request.POST or None, initial={"nonce": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                _claim_nonce(request, form.cleaned_data["nonce"], "cancel", order.pk)
                order_cancel(
                    order_id=order.pk, actor=request.user, reason=form.cleaned_data["reason"]
                )
        except AlreadySubmitted:
            messages.warning(request, "This form was already submitted; nothing more was done.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Order {order.order_number} cancelled; its payments are being refunded or voided.",
            )
        return redirect(change_url)
    context = {
        **admin.site.each_context(request),
        "title": f"Cancel order {order.order_number}",
        "order": order,
        "form": form,
        "change_url": change_url,
        "opts": Order._meta,
    }
    return TemplateResponse(request, "admin/backoffice/order_cancel.html", context)


def dashboard_view(request):
    """Show how payments are doing over a chosen period."""
    if not request.user.has_perm("payments.view_payment"):
        raise PermissionDenied
    period = request.GET.get("days", "30")
    days = dashboard.PERIODS.get(period, 30)
    figures = dashboard.dashboard_figures(days=days)
    per_day_count = charts.bar_chart(
        [(f"{p['day']:%m-%d}", p["count"]) for p in figures.per_day], title="Payments per day"
    )
    per_day_amount = charts.bar_chart(
        [(f"{p['day']:%m-%d}", float(p["amount"])) for p in figures.per_day], title="Amount per day"
    )
    failures = charts.bar_chart(
        [(f["failure_code"] or "unknown", f["count"]) for f in figures.failures_by_code],
        title="Failures by code",
    )
    latency = charts.bar_chart(
        [
            (row["payment_method"], round(row["avg_ms"] or 0, 1))
            for row in figures.latency_by_gateway
        ],
        title="Average gateway latency",
        unit=" ms",
    )
    context = {
        **admin.site.each_context(request),
        "title": "Payments dashboard",
        "figures": figures,
        "periods": list(dashboard.PERIODS),
        "period": str(days),
        "charts": [per_day_count, per_day_amount, failures, latency],
        "success_rate": None
        if figures.success_rate is None
        else round(figures.success_rate * 100, 1),
        "refund_rate": None if figures.refund_rate is None else round(figures.refund_rate * 100, 1),
        "to_final": None
        if figures.avg_seconds_to_final is None
        else round(figures.avg_seconds_to_final, 2),
        "zero": Decimal("0"),
    }
    return TemplateResponse(request, "admin/backoffice/dashboard.html", context)
