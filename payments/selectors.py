"""Reads of payments, scoped to what the caller may see."""

from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from payments.gateways.registry import enabled_gateway_names, get_gateway
from payments.models import Dispute, Payment
from transactions.models import TransactionStatus, TransactionType
from transactions.selectors import refundable_amount as ledger_refundable


def payment_visible_to(user) -> QuerySet[Payment]:
    """Return the payments the user may see, with what is still being refunded."""
    queryset = Payment.objects.annotate(
        refund_pending=Coalesce(
            Sum(
                "transactions__amount",
                filter=Q(
                    transactions__status=TransactionStatus.PENDING,
                    transactions__transaction_type=TransactionType.REFUND,
                ),
            ),
            Value(Decimal("0")),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        ),
        # The latest dispute's status, for the API's `dispute_status` (one subquery, no N+1).
        dispute_status=Subquery(
            Dispute.objects.filter(payment=OuterRef("pk"))
            .order_by("-created_at", "-pk")[:1]
            .values("status")
        ),
    )
    # is_staff alone is no licence: a staff account without the view permission is a customer here.
    if not (user.is_staff and user.has_perm("payments.view_payment")):
        queryset = queryset.filter(order__user=user)
    return queryset


def refundable_amount(payment: Payment) -> Decimal:
    """Return what can still be refunded: captured, minus refunded, minus refunds in flight."""
    pending = getattr(payment, "refund_pending", None)
    if pending is None:
        pending = payment.transactions.filter(
            status=TransactionStatus.PENDING, transaction_type=TransactionType.REFUND
        ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return ledger_refundable(payment.captured_amount, payment.refunded_amount, pending)


def payment_methods() -> list[dict]:
    """Describe the enabled gateways."""
    return [get_gateway(name).describe() for name in enabled_gateway_names()]
