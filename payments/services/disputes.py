"""Disputes (chargebacks): record the gateway's word, tell Finance, move the money in the ledger.

A lost dispute appends a `chargeback` row for the disputed amount; winning it afterwards appends
a `chargeback_reversal` row. The rows carry the dispute's id as their gateway reference, so the
ledger's unique constraint makes a repeated event a no-op.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from gamarriando.logging import get_logger
from gamarriando.money import with_currency
from orders.models import OrderStatus
from payments.dispute_transitions import DECIDED, OPEN, dispute_may_move
from payments.models import Dispute, DisputeStatus, Payment
from payments.services.ledger_core import give_back_for_cancelled_order, lock_payment
from transactions.models import Transaction, TransactionStatus, TransactionType

logger = get_logger(__name__)
DEADLINE_NOTICE = timedelta(days=3)


def finance_recipients() -> list[str]:
    """E-mail addresses of the active members of the Finance group."""
    users = get_user_model().objects.filter(groups__name="Finance", is_active=True)
    return sorted(set(users.values_list("email", flat=True)))


def mail_finance(subject: str, body: str) -> None:
    """E-mail the Finance group (nobody when it has no active members)."""
    recipients = finance_recipients()
    if recipients:
        send_mail(subject, body, None, recipients)


def _describe(dispute: Dispute) -> str:
    due = f"{dispute.evidence_due_by:%Y-%m-%d %H:%M} UTC" if dispute.evidence_due_by else "none"
    return (
        f"Dispute {dispute.gateway_dispute_id} on payment {dispute.payment_id} "
        f"(order {dispute.payment.order.order_number}): "
        f"{with_currency(dispute.amount, dispute.currency)}, "
        f"reason {dispute.reason or 'not given'}, status {dispute.status}, evidence due {due}."
    )


def _ledger_row(dispute: Dispute, kind: str) -> None:
    exists = Transaction.objects.filter(
        transaction_type=kind, gateway_transaction_id=dispute.gateway_dispute_id
    ).exists()
    if exists:
        return
    now = timezone.now()
    Transaction.objects.create(
        payment_id=dispute.payment_id,
        transaction_type=kind,
        amount=dispute.amount,
        currency=dispute.currency,
        status=TransactionStatus.SUCCEEDED,
        gateway_transaction_id=dispute.gateway_dispute_id,
        reason=f"dispute {dispute.status} ({dispute.reason or 'no reason given'})"[:255],
        processed_at=now,
        gateway_response={"dispute": dispute.gateway_dispute_id, "status": dispute.status},
    )


def _money_known(dispute: Dispute, ledger: bool) -> bool:
    """Tell whether the ledger already shows what a decided dispute took back."""
    if ledger or dispute.status != DisputeStatus.LOST:
        return True
    # The gateway's reversal for this dispute: a chargeback recorded since it opened.
    return Transaction.objects.filter(
        payment_id=dispute.payment_id,
        transaction_type=TransactionType.CHARGEBACK,
        created_at__gte=dispute.created_at,
    ).exists()


def dispute_record(
    *,
    payment_id: int,
    gateway: str,
    gateway_dispute_id: str,
    amount: Decimal,
    currency: str,
    reason: str,
    status: str,
    evidence_due_by: datetime | None,
    ledger: bool = True,
) -> Dispute:
    """Create or move a dispute to the gateway's status; ledger rows and e-mails follow.

    `ledger=False` where the gateway moves the money with events of its own (PayPal reverses
    the capture when the buyer wins, recorded from PAYMENT.CAPTURE.REVERSED): a lost dispute
    then writes no chargeback row, and a cancelled order's refund waits for that reversal.
    """
    with transaction.atomic():
        order, payment = lock_payment(payment_id)
        dispute, created = Dispute.objects.get_or_create(
            gateway_dispute_id=gateway_dispute_id,
            defaults={
                "payment": payment,
                "gateway": gateway,
                "amount": amount,
                "currency": currency,
                "reason": reason[:64],
                "status": status,
                "evidence_due_by": evidence_due_by,
            },
        )
        if not created:
            if not dispute_may_move(dispute.status, status):
                logger.info(
                    "dispute_status_ignored",
                    dispute_id=dispute.pk,
                    from_status=dispute.status,
                    to_status=status,
                )
                return dispute
            dispute.status = status
            dispute.evidence_due_by = evidence_due_by or dispute.evidence_due_by
            dispute.reason = reason[:64] or dispute.reason
        if status in (DisputeStatus.WON, DisputeStatus.LOST, DisputeStatus.WARNING_CLOSED):
            dispute.closed_at = dispute.closed_at or timezone.now()
        if status == DisputeStatus.LOST and ledger:
            _ledger_row(dispute, TransactionType.CHARGEBACK)
        elif (
            status == DisputeStatus.WON
            and Transaction.objects.filter(
                transaction_type=TransactionType.CHARGEBACK,
                gateway_transaction_id=dispute.gateway_dispute_id,
            ).exists()
        ):
            _ledger_row(dispute, TransactionType.CHARGEBACK_REVERSAL)
        if not payment.disputed:
            Payment.objects.filter(pk=payment.pk).update(disputed=True)
        notify = dispute.opened_notified_at is None and status in OPEN
        if notify:
            dispute.opened_notified_at = timezone.now()
        dispute.save()
        if (
            status in DECIDED
            and order.status == OrderStatus.CANCELLED
            and _money_known(dispute, ledger)
        ):
            # Its cancellation held the refund while the bank could still take the money back
            # (a closed inquiry may still become a chargeback: the alert names it for Finance);
            # what the dispute left (all of it when won, the rest when lost) goes back now.
            give_back_for_cancelled_order(order, payment)
        if notify:
            text = _describe(dispute)
            transaction.on_commit(lambda: mail_finance("A payment was disputed", text))
    return dispute


def disputes_remind_deadlines(*, now: datetime | None = None) -> int:
    """E-mail Finance once about each open dispute whose evidence is due within three days."""
    now = now or timezone.now()
    due = Dispute.objects.filter(
        status__in=OPEN,
        evidence_due_by__isnull=False,
        evidence_due_by__lte=now + DEADLINE_NOTICE,
        evidence_due_by__gt=now,
        deadline_notified_at__isnull=True,
    ).select_related("payment__order")
    sent = 0
    for dispute in due.order_by("evidence_due_by"):
        # Claim the reminder first, so two beat runs never both send it.
        claimed = Dispute.objects.filter(pk=dispute.pk, deadline_notified_at__isnull=True).update(
            deadline_notified_at=now
        )
        if claimed:
            mail_finance("Dispute evidence due in three days", _describe(dispute))
            sent += 1
    return sent
