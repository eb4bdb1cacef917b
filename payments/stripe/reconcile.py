"""Make our ledger agree with Stripe: settle pending rows, append what Stripe did without us."""

from datetime import datetime

from django.db import transaction
from djstripe.models import PaymentIntent

from gamarriando.logging import get_logger
from payments.gateways.base import GatewayResult, GatewayStatus
from payments.gateways.registry import get_gateway
from payments.models import Payment, PaymentStatus
from payments.services import (
    ReconcileReport,
    ledger_record_what_the_gateway_did,
    payment_apply_gateway_result,
)
from payments.services.refund_failure import refund_record_late_failure
from payments.stripe.events import find_payment
from payments.stripe.gateway import result_from_payment_intent, result_from_refund
from transactions.models import Transaction, TransactionStatus, TransactionType

logger = get_logger(__name__)


def _record_what_stripe_did(
    payment: Payment, kind: str, amount, reference: str, reason: str, report: ReconcileReport
) -> None:
    """Append a row for what Stripe did without us (a dashboard refund or capture)."""
    refused = ledger_record_what_the_gateway_did(payment, kind, amount, reference, reason, report)
    if refused is not None:
        # Already in the ledger (unique reference) or no longer possible: nothing to repair.
        logger.info(
            "stripe_reconcile_skip",
            payment_id=payment.pk,
            kind=kind,
            reference=reference,
            reason=refused.message,
        )


def _settle(txn: Transaction, result, report: ReconcileReport) -> None:
    """Apply Stripe's final answer to one of our pending rows."""
    if txn.status == TransactionStatus.PENDING and result.status in (
        GatewayStatus.SUCCEEDED,
        GatewayStatus.FAILED,
        GatewayStatus.REQUIRES_ACTION,
    ):
        payment_apply_gateway_result(transaction_id=txn.pk, result=result)
        report.repaired.append(
            f"payment {txn.payment_id}: {txn.transaction_type} {txn.pk} -> {result.status}"
        )


def reconcile_payment_intent(
    payment_intent: dict, refunds: list[dict], report: ReconcileReport
) -> None:
    """Apply one PaymentIntent's current state and refunds to our ledger."""
    report.checked += 1
    payment = find_payment(payment_intent)
    if payment is None:
        report.unmatched.append(payment_intent["id"])
        return
    currency = payment.currency
    gateway = get_gateway("stripe")
    attempt_key = (payment_intent.get("metadata") or {}).get("attempt_key")
    attempt = (
        Transaction.objects.filter(payment=payment, idempotency_key=attempt_key).first()
        if attempt_key
        else None
    )
    if attempt is not None:
        _settle(attempt, result_from_payment_intent(payment_intent), report)
    payment.refresh_from_db()
    received = gateway.minor_to_amount(payment_intent.get("amount_received") or 0, currency)
    if payment_intent["status"] == "succeeded" and payment.status == PaymentStatus.AUTHORIZED:
        pending = payment.transactions.filter(
            transaction_type=TransactionType.CAPTURE, status=TransactionStatus.PENDING
        ).first()
        if pending is not None:
            _settle(pending, result_from_payment_intent(payment_intent), report)
        else:
            _record_what_stripe_did(
                payment,
                TransactionType.CAPTURE,
                received,
                f"{payment_intent['id']}:capture",
                "captured in Stripe",
                report,
            )
    if payment_intent["status"] == "canceled" and payment.status == PaymentStatus.AUTHORIZED:
        pending = payment.transactions.filter(
            transaction_type=TransactionType.VOID, status=TransactionStatus.PENDING
        ).first()
        if pending is not None:
            _settle(
                pending,
                GatewayResult(
                    status=GatewayStatus.SUCCEEDED, reference=f"{payment_intent['id']}:void"
                ),
                report,
            )
        else:
            _record_what_stripe_did(
                payment,
                TransactionType.VOID,
                payment.authorized_amount,
                f"{payment_intent['id']}:void",
                "cancelled in Stripe",
                report,
            )
    for refund in refunds:
        known = Transaction.objects.filter(
            transaction_type=TransactionType.REFUND, gateway_transaction_id=refund["id"]
        ).first()
        if known is None:
            ours = (refund.get("metadata") or {}).get("transaction_id", "")
            known = (
                Transaction.objects.filter(pk=int(ours), payment=payment).first()
                if str(ours).isdigit()
                else None
            )
        if known is not None and known.status == TransactionStatus.SUCCEEDED:
            if refund["status"] in ("failed", "canceled") and refund_record_late_failure(
                transaction_id=known.pk, failure_reason=refund.get("failure_reason") or ""
            ):
                report.repaired.append(f"payment {payment.pk}: refund {known.pk} failed later")
        elif known is not None:
            _settle(known, result_from_refund(refund), report)
        elif refund["status"] == "succeeded":
            amount = gateway.minor_to_amount(refund["amount"], currency)
            _record_what_stripe_did(
                payment,
                TransactionType.REFUND,
                amount,
                refund["id"],
                "refunded in the Stripe Dashboard",
                report,
            )


def payment_reconcile_stripe(*, payment_intent_id: str, disputed: bool = False) -> ReconcileReport:
    """Fetch a PaymentIntent and its refunds from Stripe (no transaction open) and apply them."""
    gateway = get_gateway("stripe")
    payment_intent = gateway.payment_intent(payment_intent_id)
    refunds = gateway.refunds_of(payment_intent_id)
    report = ReconcileReport()
    reconcile_payment_intent(payment_intent, refunds, report)
    payment = find_payment(payment_intent)
    if payment is not None:
        _link_mirror(payment, payment_intent_id)
        if disputed and not payment.disputed:
            with transaction.atomic():
                Payment.objects.filter(pk=payment.pk).update(disputed=True)
            report.repaired.append(f"payment {payment.pk}: marked disputed")
    return report


def _link_mirror(payment: Payment, payment_intent_id: str) -> None:
    """Point the payment at dj-stripe's mirror of its PaymentIntent, once it exists."""
    if payment.stripe_payment_intent_id is None:
        mirror = PaymentIntent.objects.filter(id=payment_intent_id).first()
        if mirror is not None:
            Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent=mirror)


def reconcile_stripe_since(since: datetime, *, repair: bool = True) -> ReconcileReport:
    """Compare every PaymentIntent created since a date with our ledger; repair or report."""
    gateway = get_gateway("stripe")
    report = ReconcileReport()
    for payment_intent in gateway.payment_intents_since(int(since.timestamp())):
        if repair:
            reconcile_payment_intent(
                payment_intent, gateway.refunds_of(payment_intent["id"]), report
            )
        else:
            report.checked += 1
            if find_payment(payment_intent) is None:
                report.unmatched.append(payment_intent["id"])
    return report
