"""Money screens of a payment in the admin: refund, capture, void, reconcile now.

Each screen shows the facts, asks, confirms, calls the same service as the API and shows the
outcome. The services check the clerk's permission; a screen checks it too, only so that a
clerk without it is not shown a form.
"""

import uuid
from dataclasses import dataclass
from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from backoffice.forms import CaptureForm, RefundForm, VoidForm
from backoffice.nonces import FormAlreadySubmitted, nonce_claim
from gamarriando import money
from gamarriando.errors import ApplicationError, PermissionDeniedError
from orders.models import OrderStatus
from payments import rules
from payments.models import Payment
from payments.permissions import PaymentPermission
from payments.services import (
    payment_cancel,
    payment_capture,
    payment_reconcile_request,
    payment_refund,
)
from transactions.models import Transaction, TransactionStatus, TransactionType

ALREADY_SUBMITTED = "This form was already submitted; nothing more was done."


@dataclass(frozen=True)
class MoneyScreen:
    name: str
    title: str
    permission: PaymentPermission
    form_class: type
    verb: str


SCREENS = {
    "refund": MoneyScreen(
        "refund", "Refund payment", PaymentPermission.REFUND, RefundForm, "Refund"
    ),
    "capture": MoneyScreen(
        "capture", "Capture payment", PaymentPermission.CAPTURE, CaptureForm, "Capture"
    ),
    "void": MoneyScreen("void", "Void authorization", PaymentPermission.CAPTURE, VoidForm, "Void"),
}


def _facts(payment: Payment) -> dict:
    order = payment.order
    # In the currency's own decimals: a JPY payment shows 4800, not 4800.00.
    in_currency = partial(money.quantize, currency=payment.currency)
    return {
        "order": order,
        "customer": order.user.email,
        "amount": in_currency(payment.amount),
        "captured": in_currency(payment.captured_amount),
        "refunded": in_currency(payment.refunded_amount),
        "refundable": in_currency(rules.refundable(payment)),
        "capturable": in_currency(rules.capturable_amount(payment)),
    }


def _run(screen: MoneyScreen, payment: Payment, data: dict, user) -> Transaction | None:
    if screen.name == "refund":
        return payment_refund(
            payment_id=payment.pk,
            actor=user,
            amount=data["amount"],
            reason=data["reason"],
            destination=data.get("destination") or "original",
        )[1]
    if screen.name == "capture":
        return payment_capture(payment_id=payment.pk, actor=user, amount=data["amount"])[1]
    payment_cancel(payment_id=payment.pk, actor=user, reason=data.get("reason") or "")
    return (
        Transaction.objects.filter(payment=payment, transaction_type=TransactionType.VOID)
        .order_by("-pk")
        .first()
    )


def _unavailable(screen: MoneyScreen, payment: Payment) -> str:
    """Say why the operation cannot start now, or return "" when it can."""
    if screen.name == "refund":
        dispute = rules.open_dispute(payment)
        if dispute is not None:
            return (
                f"This payment is under dispute ({dispute.get_status_display().lower()}): it "
                "cannot be refunded until the dispute closes, since the bank may take the "
                "money back too."
            )
        return "" if rules.can_refund(payment) else "Nothing is left to refund on this payment."
    try:
        (rules.check_capturable if screen.name == "capture" else rules.check_voidable)(payment)
    except ApplicationError as exc:
        return exc.message
    return ""


def _above_what_is_left(screen: MoneyScreen, facts: dict, amount, currency: str) -> str:
    """Say, before the confirmation step, that an amount is above what is left to move."""
    left = facts.get({"refund": "refundable", "capture": "capturable"}.get(screen.name, ""))
    if amount is None or left is None or amount <= left:
        return ""
    what = "refund" if screen.name == "refund" else "capture"
    return f"Only {money.with_currency(left, currency)} is left to {what} on this payment."


def _left_due(screen: MoneyScreen, payment: Payment, amount) -> str:
    """Warn when a capture leaves a pending order short: it would expire and be refunded."""
    order = payment.order
    if (
        screen.name != "capture"
        or order.status != OrderStatus.PENDING
        or amount >= order.balance_due
    ):
        return ""
    due = money.with_currency(order.balance_due - amount, order.currency)
    by = f" by {order.expires_at:%Y-%m-%d %H:%M} UTC" if order.expires_at else ""
    return (
        f"Order {order.order_number} will still have {due} due: it stays pending and, unless "
        f"the rest is paid{by}, it expires and what was captured is refunded."
    )


def _report(request, screen: MoneyScreen, txn: Transaction | None, destination: str) -> None:
    if txn is None:
        messages.success(request, f"{screen.verb}: done.")
        return
    txn.refresh_from_db()
    where = " to store credit" if destination == "wallet" else ""
    text = f"{screen.verb} of {money.with_currency(txn.amount, txn.currency)}{where}: {txn.status}"
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


MONEY_DETAILS = frozenset({"refundable_amount", "balance_due", "available", "amount_due"})


def error_details(exc: ApplicationError, currency: str = "") -> str:
    """Name an error's details as a clerk reads them: "Refundable amount: 9.80 PEN", not keys."""

    def shown(key, value):
        if isinstance(value, list):
            return " ".join(map(str, value))
        if key in MONEY_DETAILS and currency:
            return f"{value} {currency}"
        return str(value).replace("_", " ") if key.endswith("status") else value

    return ", ".join(
        f"{key.replace('_', ' ').capitalize()}: {shown(key, value)}"
        for key, value in exc.details.items()
    )


def payment_operation_view(request, payment_id: int, operation_name: str):
    """Show, confirm and perform a refund, capture or void on one payment."""
    screen = SCREENS[operation_name]
    if not request.user.has_perm(screen.permission):
        raise PermissionDenied
    payment = get_object_or_404(Payment.objects.select_related("order__user"), pk=payment_id)
    facts = _facts(payment)
    change_url = reverse("admin:payments_payment_change", args=[payment.pk])
    initial = {
        "amount": facts["refundable"] if screen.name == "refund" else facts["capturable"],
        "nonce": uuid.uuid4(),
    }
    form = screen.form_class(request.POST or None, initial=initial, currency=payment.currency)
    confirming, left_due = False, ""
    if request.method == "POST" and form.is_valid():
        above = _above_what_is_left(
            screen, facts, form.cleaned_data.get("amount"), payment.currency
        )
        if above and not form.cleaned_data.get("confirm"):
            form.add_error("amount", above)  # corrected here, before anything is confirmed
        elif not form.cleaned_data.get("confirm"):
            confirming = True  # show the confirmation step with the same values
            values = {**form.cleaned_data, "confirm": True}
            if values.get("amount") is None:  # a refund of everything: confirm the figure
                values["amount"] = facts["refundable"]
            form = screen.form_class(initial=values, currency=payment.currency)
            left_due = _left_due(screen, payment, values["amount"])
        else:
            try:
                # One transaction: a refused operation frees the nonce for a corrected retry.
                with transaction.atomic():
                    nonce_claim(
                        nonce=form.cleaned_data["nonce"],
                        operation=screen.name,
                        object_id=payment.pk,
                        user=request.user,
                    )
                    txn = _run(screen, payment, form.cleaned_data, request.user)
            except FormAlreadySubmitted:
                messages.warning(request, ALREADY_SUBMITTED)
                return redirect(change_url)
            except ApplicationError as exc:
                details = error_details(exc, payment.currency)
                messages.error(request, f"{exc.message} {details}".strip())
                # Back to the first step with what was entered: a corrected amount is confirmed
                # again, never sent on the next press (the refused nonce was freed).
                form = screen.form_class(
                    initial={**form.cleaned_data, "confirm": False}, currency=payment.currency
                )
            else:
                _report(request, screen, txn, form.cleaned_data.get("destination") or "")
                return redirect(change_url)
    context = {
        **admin.site.each_context(request),
        "title": f"{screen.title} {payment.pk}",
        "operation": screen,
        "payment": payment,
        "facts": facts,
        "form": form,
        "confirming": confirming,
        "unavailable": "" if confirming else _unavailable(screen, payment),
        "left_due": left_due,
        "change_url": change_url,
        "opts": Payment._meta,
    }
    return TemplateResponse(request, "admin/backoffice/payment_operation.html", context)


def reconcile_view(request, payment_id: int):
    """Queue a reconciliation of one payment's pending rows, then show where it stands."""
    if request.method != "POST":
        return redirect(reverse("admin:payments_payment_change", args=[payment_id]))
    payment = get_object_or_404(Payment, pk=payment_id)
    try:
        queued = payment_reconcile_request(payment_id=payment.pk, actor=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    # Tasks run inline in local and test settings, so the outcome may already be here.
    payment.refresh_from_db()
    messages.info(
        request,
        f"Queued {queued} pending operation(s) for reconciliation; "
        f"the payment is {payment.status}.",
    )
    return redirect(reverse("admin:payments_payment_change", args=[payment.pk]))
