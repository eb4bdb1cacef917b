"""The order cancel screen: says what cancelling does to each payment, confirms, cancels once."""

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from backoffice.forms import CancelOrderForm
from backoffice.nonces import FormAlreadySubmitted, nonce_claim
from backoffice.views import ALREADY_SUBMITTED
from gamarriando import money
from gamarriando.errors import ApplicationError
from orders.models import Order, OrderStatus
from orders.services import order_cancel
from orders.transitions import STAFF, can_transition
from payments import rules
from payments.models import PaymentStatus


def _what_cancelling_does(order: Order) -> list[str]:
    """Say, payment by payment, what cancelling the order will do with its money."""
    lines = []
    for payment in order.payments.order_by("pk"):
        status = payment.get_status_display().lower()  # "partially refunded", not the code
        label = f"Payment {payment.pk} ({payment.payment_method}, {status})"
        refundable = rules.refundable(payment)
        if payment.status == PaymentStatus.AUTHORIZED:
            held = money.with_currency(rules.capturable_amount(payment), payment.currency)
            lines.append(f"{label}: the authorization of {held} is voided.")
        elif payment.status == PaymentStatus.PENDING:
            lines.append(f"{label}: nothing was charged; the payment is cancelled.")
        elif payment.status == PaymentStatus.REQUIRES_ACTION:
            lines.append(
                f"{label}: waiting for the buyer; the attempt is called off, and what a late "
                "approval takes is refunded."
            )
        elif payment.status == PaymentStatus.PROCESSING:
            lines.append(
                f"{label}: a charge is on its way; what it takes is refunded once it settles."
            )
        elif refundable > 0 and rules.has_open_dispute(payment):
            lines.append(
                f"{label}: under dispute; what is left is given back when the dispute closes."
            )
        elif refundable > 0:
            back = money.with_currency(refundable, payment.currency)
            where = "store credit" if payment.payment_method == "wallet" else "the payment method"
            lines.append(f"{label}: {back} is refunded to {where}.")
    return lines or ["No payment holds money: only the stock is released."]


def order_cancel_view(request, order_id: int):
    """Cancel an order with a reason; its payments are refunded or voided."""
    if not request.user.has_perm("orders.change_order"):
        raise PermissionDenied
    order = get_object_or_404(Order.objects.select_related("user"), pk=order_id)
    change_url = reverse("admin:orders_order_change", args=[order.pk])
    form = CancelOrderForm(request.POST or None, initial={"nonce": uuid.uuid4()})
    confirming = False
    if request.method == "POST" and form.is_valid() and not form.cleaned_data.get("confirm"):
        confirming = True  # show what will happen once more, with the same values
        form = CancelOrderForm(initial={**form.cleaned_data, "confirm": True})
    elif request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                nonce_claim(
                    nonce=form.cleaned_data["nonce"],
                    operation="cancel",
                    object_id=order.pk,
                    user=request.user,
                )
                order_cancel(
                    order_id=order.pk, actor=request.user, reason=form.cleaned_data["reason"]
                )
        except FormAlreadySubmitted:
            messages.warning(request, ALREADY_SUBMITTED)
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
        "confirming": confirming,
        "consequences": _what_cancelling_does(order),
        "unavailable": (
            ""
            if can_transition(order.status, OrderStatus.CANCELLED, STAFF)
            else f"An order that is {order.status} cannot be cancelled."
        ),
        "change_url": change_url,
        "opts": Order._meta,
    }
    return TemplateResponse(request, "admin/backoffice/order_cancel.html", context)
