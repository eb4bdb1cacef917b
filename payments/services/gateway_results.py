"""Settle a gateway's answer into the ledger, then the payment and the order follow it."""

from dataclasses import replace

from django.db import transaction
from django.utils import timezone

from gamarriando.event_types import EventType
from gamarriando.finance_metrics import PAYMENT_AMOUNT
from gamarriando.metrics import REFUNDS
from orders.models import OrderStatus
from payments.gateways.base import FailureCode, GatewayResult, GatewayStatus
from payments.models import Payment, PaymentStatus
from payments.services.ledger_core import (
    abandon_waiting_attempt,
    is_called_off,
    lock_operation,
    publish_refund_event,
    set_status,
    sync_from_ledger,
)
from payments.services.wallet_settlement import wallet_settle_hold
from transactions.models import TransactionStatus, TransactionType

COUNTED = {TransactionType.CHARGE, TransactionType.CAPTURE, TransactionType.REFUND}
CALLED_OFF_MESSAGE = "The payment was cancelled before the customer finished authenticating."


def payment_apply_gateway_result(
    *, transaction_id: int, result: GatewayResult, payment: Payment | None = None
) -> Payment | None:
    """Settle a pending ledger row from a gateway answer; a repeated answer changes nothing.

    The worker passes the row's payment, already read, to save the lookup of its ids; it is
    locked and read again here all the same. An attempt marked as called off
    (ledger_core.abandon_waiting_attempt) that ends in a failure leaves the payment cancelled,
    whichever path reports that end.
    """
    if result.status == GatewayStatus.PENDING and (
        payment is not None and payment.status != PaymentStatus.REQUIRES_ACTION
    ):
        return None  # nothing to write: the answer is still to come
    payment_id, order_id = (payment.pk, payment.order_id) if payment else (None, None)
    with transaction.atomic():
        order, payment, txn = lock_operation(transaction_id, payment_id, order_id)
        if txn.status != TransactionStatus.PENDING:
            return payment
        if result.status == GatewayStatus.PENDING:
            if payment.status == PaymentStatus.REQUIRES_ACTION and txn.transaction_type in (
                TransactionType.CHARGE,
                TransactionType.AUTHORIZATION,
            ):
                # The buyer is done (a PayPal capture PENDING, say): the money is on its way,
                # and the approve link must no longer be offered.
                payment.next_action = None
                set_status(payment, PaymentStatus.PROCESSING, reason="the gateway is settling")
                payment.save()
            return payment
        result = wallet_settle_hold(payment, txn, result)
        is_attempt = txn.transaction_type in (TransactionType.CHARGE, TransactionType.AUTHORIZATION)
        # Our call-off ended it (a buyer who finished first keeps their success and its words).
        ended_by_us = is_called_off(txn) and result.status == GatewayStatus.FAILED
        if ended_by_us:
            result = replace(result, failure_code=FailureCode.CANCELED)  # not a decline
        now = timezone.now()
        if result.status == GatewayStatus.REQUIRES_ACTION:
            if is_attempt:
                # Also when already requires_action: a resumed PayPal attempt declined again
                # (INSTRUMENT_DECLINED) sends the buyer to a fresh approve link.
                payment.next_action = result.next_action
                payment.gateway_transaction_id = result.reference or payment.gateway_transaction_id
                if result.reference and txn.gateway_transaction_id != result.reference:
                    # The attempt's own order at the gateway: a resumed attempt reads this one.
                    txn.gateway_transaction_id = result.reference
                    txn.save(update_fields=["gateway_transaction_id"])
                payment.gateway_response = result.raw
                payment.failure_code = result.failure_code
                payment.wallet = result.wallet or payment.wallet
                if payment.status != PaymentStatus.REQUIRES_ACTION:
                    set_status(
                        payment,
                        PaymentStatus.REQUIRES_ACTION,
                        reason="the customer must authenticate",
                    )
                payment.save()
                if order.status == OrderStatus.CANCELLED and not is_called_off(txn):
                    # Cancelled while the charge was on its way: nobody may finish it now.
                    abandon_waiting_attempt(payment, f"order {order.order_number} cancelled")
            return payment
        txn.status = (
            TransactionStatus.SUCCEEDED
            if result.status == GatewayStatus.SUCCEEDED
            else TransactionStatus.FAILED
        )
        txn.gateway_transaction_id = result.reference or ""
        txn.gateway_response = result.raw
        txn.failure_reason = result.failure_code[:255]
        txn.processed_at = now
        txn.gateway_latency_ms = result.latency_ms
        txn.save()
        flow_status = None
        if is_attempt:
            payment.gateway_transaction_id = result.reference or payment.gateway_transaction_id
            payment.gateway_response = result.raw
            payment.processed_at = now
            payment.next_action = None
            payment.wallet = result.wallet or payment.wallet
            if result.status == GatewayStatus.SUCCEEDED:
                payment.failure_code = ""  # e.g. the decline a resumed PayPal attempt got past
            if result.status == GatewayStatus.FAILED:
                payment.failure_code = result.failure_code
                payment.failure_message = (
                    result.failure_message or (CALLED_OFF_MESSAGE if ended_by_us else "")
                )[:255]
                flow_status = PaymentStatus.CANCELLED if ended_by_us else PaymentStatus.FAILED
        sync_from_ledger(
            order,
            payment,
            reason=txn.reason if ended_by_us else f"{txn.transaction_type} {txn.status}",
            flow_status=flow_status,
            voided=txn.transaction_type == TransactionType.VOID
            and result.status == GatewayStatus.SUCCEEDED,
        )
        if txn.status == TransactionStatus.SUCCEEDED and txn.transaction_type in COUNTED:
            # Counted once the row is committed: a rolled-back settle never counted.
            labels = (txn.currency, payment.payment_method, txn.transaction_type)
            amount = float(txn.amount)
            transaction.on_commit(lambda: PAYMENT_AMOUNT.labels(*labels).inc(amount))
        if txn.transaction_type == TransactionType.REFUND:
            REFUNDS.labels(txn.status).inc()
            kind = (
                EventType.REFUND_SUCCEEDED
                if result.status == GatewayStatus.SUCCEEDED
                else EventType.REFUND_FAILED
            )
            publish_refund_event(kind, order, payment, txn, at=now)
    return payment
