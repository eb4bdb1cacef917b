"""Refund any payment to the customer's store credit, in one transaction with its ledger row."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from gamarriando.event_types import EventType
from gamarriando.finance_metrics import PAYMENT_AMOUNT
from gamarriando.metrics import REFUNDS
from orders.models import Order
from payments.models import Payment
from payments.services.ledger_core import publish_refund_event, sync_from_ledger
from transactions.models import Transaction, TransactionStatus, TransactionType
from transactions.selectors import WALLET_DESTINATION as DESTINATION_WALLET
from wallets import services as wallet_services


def refund_to_wallet(
    order: Order, payment: Payment, *, amount: Decimal, actor, reason: str
) -> Transaction:
    """Append a settled refund row and credit the owner's wallet; the caller holds the locks.

    Raises:
        WalletBusy: the wallet kept changing; nothing is written (the caller's transaction rolls back).
    """
    number = payment.transactions.filter(transaction_type=TransactionType.REFUND).count() + 1
    key = f"payment-{payment.pk}-refund-{number}"
    now = timezone.now()
    entry = wallet_services.wallet_credit(
        user=order.user,
        currency=payment.currency,
        amount=amount,
        reason=f"refund of payment {payment.pk}: {reason}",
        actor=actor,
        payment_id=payment.pk,
        order_id=order.pk,
        idempotency_key=key,
    )
    txn = Transaction.objects.create(
        payment=payment,
        transaction_type=TransactionType.REFUND,
        amount=amount,
        currency=payment.currency,
        status=TransactionStatus.SUCCEEDED,
        idempotency_key=key,
        gateway_transaction_id=f"we_{entry.pk}",
        gateway_response={"destination": DESTINATION_WALLET, "wallet_entry_id": entry.pk},
        reason=reason[:255],
        created_by=actor,
        processed_at=now,
    )
    sync_from_ledger(order, payment, actor=actor, reason=f"refund to store credit: {reason}")
    REFUNDS.labels(txn.status).inc()
    # Counted like a gateway refund once committed; no money left a card gateway, so the
    # gateway label is the wallet (as in the settlement report).
    labels, counted = (payment.currency, DESTINATION_WALLET, TransactionType.REFUND), float(amount)
    transaction.on_commit(lambda: PAYMENT_AMOUNT.labels(*labels).inc(counted))
    publish_refund_event(
        EventType.REFUND_SUCCEEDED, order, payment, txn, at=now, destination=DESTINATION_WALLET
    )
    return txn
