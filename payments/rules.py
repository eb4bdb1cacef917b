"""What may be captured, voided, refunded or charged, and how much: one place for every caller.

The API services, the admin screens and the offline records all ask here, so a rule
changes in one place. The `check_*` functions raise the contract's error; `can_*` answer
yes or no for screens that only show or hide a button.
"""

from decimal import Decimal

from django.db.models import Q

from gamarriando import money
from gamarriando.errors import (
    AlreadyRefunded,
    RefundExceedsRefundable,
    RefundNotEligible,
    invalid_status,
)
from orders.models import Order, OrderStatus
from payments.dispute_transitions import OPEN
from payments.models import Dispute, Payment, PaymentStatus
from payments.transitions import PROCESSABLE
from transactions.models import TransactionStatus, TransactionType
from transactions.selectors import LedgerTotals, ledger_totals, pending_operation_exists

ZERO = Decimal("0")


def capturable_amount(payment: Payment) -> Decimal:
    """Return what of the authorization may still be captured: nothing once it is not held.

    A partial capture releases the rest and a void all of it: the payment then leaves
    authorized, and its authorized minus captured is no longer money anyone can take.
    """
    if payment.status != PaymentStatus.AUTHORIZED:
        return ZERO
    return payment.authorized_amount - payment.captured_amount


def refundable(payment: Payment, totals: LedgerTotals | None = None) -> Decimal:
    """Return what may still be refunded: captured, minus refunded, minus refunds in flight."""
    # Quantized: SQLite's sums come back without the currency's decimals ("80", not "80.00").
    return money.quantize((totals or ledger_totals(payment.pk)).refundable, payment.currency)


def open_dispute(payment: Payment) -> Dispute | None:
    """Return the payment's open dispute, if one is open."""
    if not payment.disputed:  # set with the first dispute: no query for the rest
        return None
    return Dispute.objects.filter(payment=payment, status__in=OPEN).order_by("-pk").first()


def has_open_dispute(payment: Payment) -> bool:
    """Say whether a dispute on the payment is open (its money may still go back by the bank)."""
    return open_dispute(payment) is not None


def _hold_is_busy(payment: Payment) -> bool:
    return pending_operation_exists(payment.pk, TransactionType.VOID, TransactionType.CAPTURE)


def check_capturable(payment: Payment) -> None:
    """Raise unless the payment is authorized with no capture or void in flight.

    Raises:
        InvalidStatus: not authorized, or a capture or void is running.
    """
    if payment.status != PaymentStatus.AUTHORIZED:
        raise invalid_status(payment.status, "Only an authorized payment can be captured.")
    if _hold_is_busy(payment):
        raise invalid_status(payment.status, "A capture or void is already running.")


def check_voidable(payment: Payment) -> None:
    """Raise unless the payment is authorized with no capture or void in flight.

    Raises:
        InvalidStatus: not authorized, or a capture or void is running.
    """
    if payment.status != PaymentStatus.AUTHORIZED:
        raise invalid_status(payment.status, "Only an authorized payment can be voided.")
    if _hold_is_busy(payment):
        raise invalid_status(payment.status, "A capture or void is already running.")


def check_not_fully_refunded(payment: Payment) -> None:
    """Raise if the payment is fully refunded.

    Raises:
        AlreadyRefunded: the payment's status is refunded.
    """
    if payment.status == PaymentStatus.REFUNDED:
        raise AlreadyRefunded(details={"status": payment.status})


def check_refundable(payment: Payment, amount: Decimal, totals: LedgerTotals) -> None:
    """Raise unless `amount` may be refunded now.

    Raises:
        AlreadyRefunded: the payment is fully refunded.
        InvalidStatus: nothing was captured.
        RefundNotEligible: a dispute on the payment is open.
        RefundExceedsRefundable: the amount is not above zero or above what is left.
    """
    check_not_fully_refunded(payment)
    if totals.captured <= 0:
        raise invalid_status(payment.status, "Nothing was captured on this payment.")
    dispute = open_dispute(payment)
    if dispute is not None:
        # The bank may take the money back; a refund now could return it twice.
        raise RefundNotEligible(
            "A payment under dispute cannot be refunded until the dispute closes.",
            details={"dispute_status": dispute.status},
        )
    left = refundable(payment, totals)
    if amount <= 0 or amount > left:
        raise RefundExceedsRefundable(
            details={"refundable_amount": money.format_amount(left, payment.currency)}
        )


def check_chargeable(payment: Payment) -> None:
    """Raise unless a charge or authorization may be recorded or attempted on the payment.

    Raises:
        InvalidStatus: the payment is neither pending nor failed, or an attempt is running.
    """
    if payment.status not in PROCESSABLE or pending_operation_exists(
        payment.pk, TransactionType.CHARGE, TransactionType.AUTHORIZATION
    ):
        raise invalid_status(payment.status, "Only a pending or failed payment can take a charge.")


def check_order_takes_payments(order: Order, payment: Payment) -> None:
    """Raise unless the payment's order still waits for payment (pending).

    Raises:
        InvalidStatus: the order is paid, cancelled or further along.
    """
    if order.status != OrderStatus.PENDING:
        raise invalid_status(payment.status, f"The order is {order.status}; it takes no payments.")


def can_capture(payment: Payment) -> bool:
    """Tell whether a capture may start now."""
    return payment.status == PaymentStatus.AUTHORIZED and not _hold_is_busy(payment)


def can_void(payment: Payment) -> bool:
    """Tell whether a void may start now."""
    return can_capture(payment)  # the same hold, free of a capture or void in flight


def can_refund(payment: Payment) -> bool:
    """Tell whether anything may be refunded now."""
    return payment.status != PaymentStatus.REFUNDED and refundable(payment) > 0


def cancellation_refund_failed(payment: Payment, reason: str) -> bool:
    """Tell whether this cancellation's refund failed, at once or later (a refund_reversal)."""
    rows = payment.transactions.filter(
        Q(transaction_type=TransactionType.REFUND, reason=reason)
        | Q(transaction_type=TransactionType.REFUND_REVERSAL)
    ).values_list("pk", "transaction_type", "status", "gateway_transaction_id")
    reversed_refs = {ref for _, kind, _, ref in rows if kind == TransactionType.REFUND_REVERSAL}
    return any(
        status == TransactionStatus.FAILED or f"{ref or pk}:failed" in reversed_refs
        for pk, kind, status, ref in rows
        if kind == TransactionType.REFUND
    )
