"""Reads of payments, scoped to what the caller may see."""

from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from gamarriando.compiled import Lookup
from payments.gateways.registry import enabled_gateway_names, get_gateway
from payments.models import Dispute, Payment
from transactions.models import TransactionStatus, TransactionType
from transactions.selectors import ledger_totals
from transactions.selectors import refundable_amount as ledger_refundable


def _ledger_sum(status: str, kind: str) -> Coalesce:
    return Coalesce(
        Sum(
            "transactions__amount",
            filter=Q(transactions__status=status, transactions__transaction_type=kind),
        ),
        Value(Decimal("0")),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def _sees_every_payment(user) -> bool:
    # is_staff alone is no licence: a staff account without the view permission is a customer here.
    return user.is_staff and user.has_perm("payments.view_payment")


def payment_scope(user) -> QuerySet[Payment]:
    """Return the payments the user may see, as plain rows (for looking one up)."""
    if _sees_every_payment(user):
        return Payment.objects.all()
    return Payment.objects.filter(order__user=user)


# payment_scope(user).filter(pk=...) compiled once (gamarriando.compiled): building it was a
# tenth of every payment action's CPU (docs/benchmarks.md, round 7).
_ANY_PAYMENT = Lookup(lambda pk: Payment.objects.filter(pk=pk))
_CUSTOMERS_PAYMENT = Lookup(
    lambda pk, user_id: Payment.objects.filter(pk=pk, order__user_id=user_id), arity=2
)


def payment_in_scope(user, payment_id: int) -> Payment | None:
    """Return payment_scope(user)'s payment with this id, read now, or None."""
    if _sees_every_payment(user):
        return _ANY_PAYMENT.get(payment_id)
    return _CUSTOMERS_PAYMENT.get(payment_id, user.pk)


def payment_visible_to(user) -> QuerySet[Payment]:
    """Return the payments the user may see, with what is being refunded and was charged back."""
    succeeded = TransactionStatus.SUCCEEDED
    return payment_scope(user).annotate(
        refund_pending=_ledger_sum(TransactionStatus.PENDING, TransactionType.REFUND),
        charged_back=_ledger_sum(succeeded, TransactionType.CHARGEBACK)
        - _ledger_sum(succeeded, TransactionType.CHARGEBACK_REVERSAL),
        # The latest dispute's status, for the API's `dispute_status` (one subquery, no N+1).
        dispute_status=Subquery(
            Dispute.objects.filter(payment=OuterRef("pk"))
            .order_by("-created_at", "-pk")[:1]
            .values("status")
        ),
    )


def with_new_figures(payment: Payment) -> Payment:
    """Give a new payment payment_visible_to's figures (all nothing yet), to render it in hand."""
    payment.refund_pending = payment.charged_back = Decimal("0")
    payment.dispute_status = None
    return payment


def figures_in_hand(payment: Payment) -> Payment | None:
    """Give a payment that never took money payment_visible_to's figures (nothing), else None."""
    if payment.captured_amount or payment.refunded_amount or payment.disputed:
        return None  # refunds in flight, chargebacks and disputes all come after a capture
    return with_new_figures(payment)


def refundable_amount(payment: Payment) -> Decimal:
    """Return what can still be refunded: captured, minus refunded, refunds in flight and
    lost disputes (from payment_visible_to's sums, else from the ledger)."""
    pending = getattr(payment, "refund_pending", None)
    charged_back = getattr(payment, "charged_back", None)
    if pending is None or charged_back is None:
        return ledger_totals(payment.pk).refundable
    return ledger_refundable(
        payment.captured_amount, payment.refunded_amount, pending, max(charged_back, Decimal("0"))
    )


def payment_methods() -> list[dict]:
    """Describe the enabled gateways."""
    return [get_gateway(name).describe() for name in enabled_gateway_names()]
