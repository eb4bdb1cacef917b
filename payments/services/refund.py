"""Refunds: reserve the amount under the payment's lock, then hand it to a worker."""

from decimal import Decimal

from django.db import transaction
from django.db.models import F

from gamarriando import money
from gamarriando.errors import PermissionDeniedError, RefundNotEligible
from gamarriando.staff_auth.tokens import require_token_second_factor
from orders.models import OrderStatus
from payments import rules
from payments.models import Payment
from payments.permissions import PaymentPermission, require_owner
from payments.services.amounts import checked_amount
from payments.services.ledger_core import lock_payment, open_operation
from payments.services.refund_to_wallet import DESTINATION_WALLET, refund_to_wallet
from transactions.models import Transaction, TransactionType
from transactions.selectors import ledger_totals


def payment_refund(
    *,
    payment_id: int,
    actor,
    reason: str,
    amount: Decimal | None = None,
    destination: str = "original",
) -> tuple[Payment, Transaction]:
    """Reserve a refund under the payment's lock and hand it to a worker.

    Finance may refund at any time, in full or in part. The owner may refund only while the
    order is paid (not yet processing) and only everything refundable, so that a refunded
    order leaves fulfilment instead of shipping after a partial refund. Only Finance may send
    a refund to the customer's store credit (`destination="wallet"`); it settles at once.

    Raises:
        PermissionDeniedError: staff without payments.refund_payment, or a customer asking
            for a refund to store credit.
        SecondFactorRequired: Finance signed in by an API token without the one-time code.
        RefundNotEligible: the owner asks once the order is past paid, for part only, or for
            one payment of an order paid with several (cancelling the order refunds them all).
        AlreadyRefunded: the payment is fully refunded.
        InvalidStatus: nothing was captured.
        RefundExceedsRefundable: the amount is above what is left to refund.
        WalletBusy: a refund to store credit found the wallet changing too often.
    """
    owner_asks = not actor.has_perm(PaymentPermission.REFUND)
    if owner_asks and destination == DESTINATION_WALLET:
        raise PermissionDeniedError("Only Finance may refund to store credit.")
    if not owner_asks:
        require_token_second_factor(actor)
    with transaction.atomic():
        order, payment = lock_payment(payment_id)
        if owner_asks:
            if actor.is_staff:
                raise PermissionDeniedError("Your role may not refund payments.")
            require_owner(actor, order.user_id)
            # The same code as Finance gets, before the order's status (refunded too) is read.
            rules.check_not_fully_refunded(payment)
            if order.status != OrderStatus.PAID:
                raise RefundNotEligible(details={"order_status": order.status})
            _refuse_part_of_a_split_order(order, payment)
        totals = ledger_totals(payment.pk)
        everything = rules.refundable(payment, totals)
        amount = everything if amount is None else checked_amount(amount, payment.currency)
        # Above what is left is REFUND_EXCEEDS_REFUNDABLE for anyone (check_refundable below).
        if owner_asks and amount < everything:
            raise RefundNotEligible(
                "You may refund only everything that is refundable.",
                details={"refundable_amount": money.format_amount(everything, payment.currency)},
            )
        rules.check_refundable(payment, amount, totals)
        if destination == DESTINATION_WALLET:
            txn = refund_to_wallet(order, payment, amount=amount, actor=actor, reason=reason)
        else:
            txn = open_operation(
                payment, TransactionType.REFUND, amount, actor=actor, reason=reason
            )
    return payment, txn


def _refuse_part_of_a_split_order(order, payment) -> None:
    """Refuse the owner one payment of an order paid with several: the order would stay paid.

    Raises:
        RefundNotEligible: another payment of the order still holds refundable money.
    """
    others = Payment.objects.filter(order_id=order.pk, captured_amount__gt=F("refunded_amount"))
    holding = [
        other.pk
        for other in others.exclude(pk=payment.pk)
        if rules.refundable(other, ledger_totals(other.pk)) > 0
    ]
    if holding:
        raise RefundNotEligible(
            "This order was paid with several payments: cancel the order to refund them all.",
            details={"other_payment_ids": holding},
        )
