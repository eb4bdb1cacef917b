"""Money moved outside our gateways (a bank transfer, a dashboard refund), under the same rules."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from gamarriando import money
from gamarriando.errors import AmountMismatch, field_error
from gamarriando.event_types import EventType
from payments import rules
from payments.gateways.wallet import WALLET
from payments.permissions import PaymentPermission, require_permission
from payments.services.amounts import check_fits_balance, checked_amount
from payments.services.ledger_core import lock_payment, publish_refund_event, sync_from_ledger
from transactions.models import ATTEMPT_TYPES, Transaction, TransactionStatus, TransactionType
from transactions.selectors import ledger_totals


def transaction_record_offline(
    *,
    payment_id: int,
    actor,
    transaction_type: str,
    amount: Decimal,
    reason: str,
    gateway_transaction_id: str = "",
) -> Transaction:
    """Record, for Finance, a money movement made outside our gateways.

    Raises:
        PermissionDeniedError: the actor may not record ledger rows.
        and everything `ledger_record_settled_row` raises.
    """
    require_permission(
        actor, PaymentPermission.RECORD_OFFLINE, "Only Finance may record transactions."
    )
    return ledger_record_settled_row(
        payment_id=payment_id,
        actor=actor,
        transaction_type=transaction_type,
        amount=amount,
        reason=reason,
        gateway_transaction_id=gateway_transaction_id,
        within_the_balance=True,
    )


def ledger_record_settled_row(
    *,
    payment_id: int,
    actor,
    transaction_type: str,
    amount: Decimal,
    reason: str,
    gateway_transaction_id: str = "",
    within_the_balance: bool = False,
) -> Transaction:
    """Append a settled row (Finance's offline record, or a gateway's truth found by a sweep).

    With within_the_balance (Finance's records), a charge or authorization obeys process's
    rule too: the order is pending and the amount fits what other payments leave uncovered.
    A sweep records what a gateway already did, so it is not held to it.

    Raises:
        InvalidStatus: the payment's status does not allow this kind of row, or (within the
            balance) a charge for an order that is no longer pending.
        AlreadyRefunded / RefundExceedsRefundable: a refund above what is left.
        AmountMismatch: a charge, authorization or capture above what the payment allows,
            or (within the balance) above what other live payments leave uncovered.
        ValidationFailed: the gateway reference is already in the ledger, or the payment is
            store credit, which moves only through the wallet.
    """
    with transaction.atomic():
        order, payment = lock_payment(payment_id)
        amount = checked_amount(amount, payment.currency)
        totals = ledger_totals(payment.pk)
        _check_offline_row(payment, transaction_type, amount, totals)
        if within_the_balance and transaction_type in ATTEMPT_TYPES:
            # Never pay a settled order, or the same balance twice.
            rules.check_order_takes_payments(order, payment)
            check_fits_balance(order, amount, exclude_payment_id=payment.pk)
        now = timezone.now()
        try:
            with transaction.atomic():
                txn = Transaction.objects.create(
                    payment=payment,
                    transaction_type=transaction_type,
                    amount=amount,
                    currency=payment.currency,
                    status=TransactionStatus.SUCCEEDED,
                    gateway_transaction_id=gateway_transaction_id,
                    reason=reason[:255],
                    created_by=actor,
                    processed_at=now,
                    gateway_response={"offline": True},
                )
        except IntegrityError as exc:
            raise field_error(
                "gateway_transaction_id", "This gateway reference is already in the ledger."
            ) from exc
        if transaction_type in ATTEMPT_TYPES and not payment.processed_at:
            payment.processed_at = now
        sync_from_ledger(
            order,
            payment,
            actor=actor,
            reason=f"offline {transaction_type}: {reason}",
            voided=transaction_type == TransactionType.VOID,
        )
        if transaction_type == TransactionType.REFUND:
            publish_refund_event(EventType.REFUND_SUCCEEDED, order, payment, txn, at=now)
    return txn


def _check_offline_row(payment, transaction_type: str, amount: Decimal, totals) -> None:
    """Apply to an offline row the rules its gateway twin obeys (payments/rules.py)."""
    if payment.payment_method == WALLET:
        # Store credit never leaves us: a row written past the wallet would leave its hold
        # and balance behind (an offline capture that debits nothing, a void that keeps the
        # hold), so the wallet's own capture, void and refund are the only ways.
        raise field_error(
            "payment_id",
            "Store credit moves only through the wallet: capture, void or refund the payment.",
        )
    if transaction_type == TransactionType.REFUND:
        rules.check_refundable(payment, amount, totals)
    elif transaction_type in ATTEMPT_TYPES:
        rules.check_chargeable(payment)
        if amount > payment.amount - totals.authorized:
            raise AmountMismatch(
                details={"amount": money.format_amount(payment.amount, payment.currency)}
            )
    elif transaction_type == TransactionType.CAPTURE:
        rules.check_capturable(payment)
        capturable = totals.authorized - totals.captured
        if amount > capturable:
            raise AmountMismatch(
                details={"capturable_amount": money.format_amount(capturable, payment.currency)}
            )
    elif transaction_type == TransactionType.VOID:
        rules.check_voidable(payment)
        if amount != totals.authorized:
            hold = money.format_amount(totals.authorized, payment.currency)
            raise field_error("amount", f"A void releases the whole hold of {hold}.")
