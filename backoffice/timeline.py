"""One order's history in time order: status changes, attempts, ledger rows, events."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from gamarriando.events import OutboxEvent
from gamarriando.money import format_amount, with_currency
from orders.models import Order, OrderStatusHistory
from payments.models import Dispute, PaymentStatusHistory, StripeWebhookEvent
from transactions.models import Transaction
from wallets.models import WalletEntry, WalletHold


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    subject: str
    description: str
    actor: str


def _who(user) -> str:
    return user.email if user is not None else "system"


def order_timeline(order: Order) -> list[TimelineEntry]:
    """Merge every record about an order and its payments, oldest first."""
    entries = [
        TimelineEntry(
            h.created_at,
            "order status",
            order.order_number,
            f"{h.from_status or '—'} → {h.to_status} ({h.reason})",
            _who(h.actor),
        )
        for h in OrderStatusHistory.objects.filter(order=order).select_related("actor")
    ]
    entries += [
        TimelineEntry(
            h.created_at,
            "payment status",
            f"payment {h.payment_id}",
            f"{h.from_status or '—'} → {h.to_status} ({h.reason})",
            _who(h.actor),
        )
        for h in PaymentStatusHistory.objects.filter(payment__order=order).select_related("actor")
    ]
    for txn in Transaction.objects.filter(payment__order=order).select_related("created_by"):
        detail = f"{txn.transaction_type} {with_currency(txn.amount, txn.currency)}: {txn.status}"
        if txn.failure_reason:
            detail += f" ({txn.failure_reason})"
        if txn.gateway_transaction_id:
            detail += f" ref {txn.gateway_transaction_id}"
        if txn.reason:
            detail += f" — {txn.reason}"
        entries.append(
            TimelineEntry(
                txn.created_at, "ledger", f"payment {txn.payment_id}", detail, _who(txn.created_by)
            )
        )
        if txn.processed_at and txn.processed_at != txn.created_at:
            entries.append(
                TimelineEntry(
                    txn.processed_at,
                    "gateway",
                    f"payment {txn.payment_id}",
                    f"{txn.transaction_type} settled {txn.status}",
                    "gateway",
                )
            )
    for w in WalletEntry.objects.filter(order_id=order.pk).select_related("wallet", "actor"):
        balance, held = (
            format_amount(value, w.wallet.currency) for value in (w.balance_after, w.held_after)
        )
        entries.append(
            TimelineEntry(
                w.created_at,
                "wallet",
                f"payment {w.payment_id}" if w.payment_id else order.order_number,
                f"{w.entry_type} {with_currency(w.amount, w.wallet.currency)}: "
                f"balance {balance}, held {held}" + (f" — {w.reason}" if w.reason else ""),
                _who(w.actor),
            )
        )
    entries += [
        TimelineEntry(
            h.created_at,
            "wallet hold",
            f"payment {h.payment_id}",
            f"hold {h.pk} of {with_currency(h.amount, h.wallet.currency)}: {h.status} "
            f"(expires {h.expires_at:%Y-%m-%d %H:%M:%S} UTC)",
            "wallet",
        )
        for h in WalletHold.objects.filter(order_id=order.pk).select_related("wallet")
    ]
    for d in Dispute.objects.filter(payment__order=order):
        due = (
            f", evidence due {d.evidence_due_by:%Y-%m-%d %H:%M} UTC"
            if d.evidence_due_by and d.closed_at is None  # a closed one asks for nothing more
            else ""
        )
        what = f"{d.gateway_dispute_id} {with_currency(d.amount, d.currency)}"
        why = d.reason or "no reason given"
        now = d.get_status_display().lower()
        entries.append(
            TimelineEntry(
                d.created_at,
                "dispute",
                f"payment {d.payment_id}",
                f"{what} ({why}): {now}{due}",
                d.gateway,
            )
        )
    entries += [
        TimelineEntry(e.created_at, "event", order.order_number, e.type, "outbox")
        for e in OutboxEvent.objects.filter(order_id=order.pk)
    ]
    intents = [
        ref
        for ref in order.payments.values_list("gateway_transaction_id", flat=True)
        if ref.startswith("pi_")
    ]
    if intents:
        webhooks = StripeWebhookEvent.objects.filter(
            Q(payload__data__object__id__in=intents)
            | Q(payload__data__object__payment_intent__in=intents)
        )
        entries += [
            TimelineEntry(w.received_at, "webhook", "stripe", f"{w.type} ({w.status})", "Stripe")
            for w in webhooks
        ]
    return sorted(entries, key=lambda entry: entry.at)
