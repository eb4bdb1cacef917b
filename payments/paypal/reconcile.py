"""Make our ledger agree with PayPal: settle pending rows, append what PayPal did without us.

Everything here starts from PayPal's current order (never from an event's payload) and only
settles pending rows or appends rows with PayPal's unique ids, so duplicated or reordered
events can never move a payment backwards or count money twice.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from gamarriando.logging import get_logger
from payments.dispute_transitions import OPEN
from payments.gateways.base import GatewayResult, GatewayStatus
from payments.gateways.registry import get_gateway
from payments.models import Dispute, DisputeStatus, Payment, PaymentStatus
from payments.paypal.results import (
    result_from_capture,
    result_from_order,
    result_from_refund,
)
from payments.services import (
    ReconcileReport,
    ledger_record_what_the_gateway_did,
    payment_apply_gateway_result,
)
from payments.services.disputes import dispute_record
from transactions.models import Transaction, TransactionStatus, TransactionType

logger = get_logger(__name__)
# PayPal's transaction search answers at most 31 days per request.
SEARCH_WINDOW = timedelta(days=31)
CAPTURE_EVENT_CODES = ("T0003", "T0004", "T0006")
# T1106: a payment reversal initiated by PayPal (a chargeback completed); T1201: a chargeback.
REVERSAL_EVENT_CODES = ("T1106", "T1201")
REVERSAL_REASON = "capture_reversed"


def find_payment(order: dict) -> Payment | None:
    """Find our payment for a PayPal order, by the payment id we sent as custom_id."""
    unit = (order.get("purchase_units") or [{}])[0]
    payment_id = str(unit.get("custom_id", ""))
    if not payment_id.isdigit():
        return Payment.objects.filter(
            payment_method="paypal", gateway_transaction_id=order["id"]
        ).first()
    return Payment.objects.filter(pk=int(payment_id), payment_method="paypal").first()


def _record(payment, kind, amount, reference, reason, report) -> None:
    """Append a row for what PayPal did without us (a dashboard refund, a capture, a void)."""
    refused = ledger_record_what_the_gateway_did(payment, kind, amount, reference, reason, report)
    if refused is None:
        return
    known = Transaction.objects.filter(
        transaction_type=kind, gateway_transaction_id=reference
    ).exists()
    # Already in the ledger (a repeated event) is nothing to repair; anything else is money
    # PayPal moved that our ledger does not show, which someone must look at.
    log = logger.info if known else logger.warning
    log(
        "paypal_reconcile_skip",
        payment_id=payment.pk,
        kind=kind,
        reference=reference,
        reason=refused.message,
    )
    if not known:
        report.unmatched.append(reference)


def _chargeback(payment, refund: dict, report: ReconcileReport) -> None:
    """Record PayPal's reversal of a capture as a lost dispute with its chargeback row."""
    reference = refund["id"]
    counted = Transaction.objects.filter(
        transaction_type=TransactionType.REFUND, gateway_transaction_id=reference
    ).exists()
    dispute = dispute_record(
        # Already in the ledger as a dashboard refund (read before PayPal named it a reversal):
        # the dispute is recorded, the money is not counted a second time.
        ledger=not counted,
        payment_id=payment.pk,
        gateway="paypal",
        gateway_dispute_id=reference,
        amount=Decimal(refund["amount"]["value"]),
        currency=payment.currency,
        reason=REVERSAL_REASON,
        status=DisputeStatus.LOST,
        evidence_due_by=None,
    )
    if counted:
        logger.error(
            "paypal_reversal_counted_as_refund", payment_id=payment.pk, reference=reference
        )
        report.unmatched.append(reference)
        return
    recorded = Transaction.objects.filter(
        transaction_type=TransactionType.CHARGEBACK, gateway_transaction_id=reference
    ).exists()
    if recorded:
        report.repaired.append(
            f"payment {payment.pk}: recorded chargeback {dispute.amount} ({reference})"
        )
        return
    # The dispute could not move to lost (e.g. already won): the money PayPal took is not in
    # our ledger, so say so loudly.
    logger.error(
        "paypal_reversal_not_recorded",
        payment_id=payment.pk,
        reference=reference,
        dispute_status=dispute.status,
    )
    report.unmatched.append(reference)


def _settle(txn: Transaction, result: GatewayResult, report: ReconcileReport) -> None:
    """Apply PayPal's answer to one of our pending rows."""
    if txn.status == TransactionStatus.PENDING and result.status != GatewayStatus.PENDING:
        payment_apply_gateway_result(transaction_id=txn.pk, result=result)
        report.repaired.append(
            f"payment {txn.payment_id}: {txn.transaction_type} {txn.pk} -> {result.status}"
        )


def _settle_attempt(payment, order, report) -> None:
    """Finish our attempt on the order: capture or authorize it once approved, else read it."""
    invoice = (order.get("purchase_units") or [{}])[0].get("invoice_id", "")
    attempt = payment.transactions.filter(
        idempotency_key=invoice, status=TransactionStatus.PENDING
    ).first()
    if attempt is None:
        return
    gateway = get_gateway("paypal")
    if order.get("status") == "APPROVED":
        result = gateway.complete_approved(order_id=order["id"], idempotency_key=invoice)
    else:
        result = result_from_order(order)
    if (
        result.status == GatewayStatus.REQUIRES_ACTION
        and not result.failure_code
        and (payment.status == PaymentStatus.REQUIRES_ACTION)
    ):
        return  # still waiting for the buyer, as we already know: nothing to repair
    if result.status == GatewayStatus.PENDING:
        # Captured but not settled (PAYMENT.CAPTURE.PENDING): processing, no approve link.
        payment_apply_gateway_result(transaction_id=attempt.pk, result=result)
        return
    _settle(attempt, result, report)


def _follow_ups(payment, payments: dict, report) -> None:
    """Settle or record captures and voids of an authorization made in PayPal."""
    if payment.status != PaymentStatus.AUTHORIZED:
        return
    for capture in payments.get("captures") or []:
        if capture.get("status") not in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
            continue
        pending = payment.transactions.filter(
            transaction_type=TransactionType.CAPTURE, status=TransactionStatus.PENDING
        ).first()
        if pending is not None:
            _settle(pending, result_from_capture(capture), report)
        else:
            amount = Decimal(capture["amount"]["value"])
            _record(
                payment,
                TransactionType.CAPTURE,
                amount,
                capture["id"],
                "captured in PayPal",
                report,
            )
    for auth in payments.get("authorizations") or []:
        if auth.get("status") != "VOIDED":
            continue
        reference = f"{auth['id']}:void"
        pending = payment.transactions.filter(
            transaction_type=TransactionType.VOID, status=TransactionStatus.PENDING
        ).first()
        if pending is not None:
            _settle(
                pending, GatewayResult(status=GatewayStatus.SUCCEEDED, reference=reference), report
            )
        else:
            _record(
                payment,
                TransactionType.VOID,
                payment.authorized_amount,
                reference,
                "voided in PayPal",
                report,
            )


def _awaits_reversal(payment, disputed: bool) -> bool:
    """Say whether PayPal may yet reverse the capture: a dispute open, or lost and unpaid."""
    if disputed:
        return True  # a dispute event: the dispute itself is recorded after this reconcile
    disputes = Dispute.objects.filter(payment=payment, gateway="paypal")
    if disputes.filter(status__in=OPEN).exists():
        return True
    # A lost dispute moves no money itself (ledger=False): its reversal does, once recorded.
    lost = disputes.filter(status=DisputeStatus.LOST).exclude(reason=REVERSAL_REASON)
    return lost.exists() and not disputes.filter(reason=REVERSAL_REASON).exists()


def _refunds(payment, payments: dict, reversal_ids, disputed: bool, report) -> None:
    """Settle our refunds, record PayPal's dashboard refunds, and reversals as chargebacks."""
    # Reversals first: once one is recorded, a dashboard refund listed before it is no longer
    # taken for the reversal still to come (_awaits_reversal).
    refunds = sorted(payments.get("refunds") or [], key=lambda r: r.get("id") not in reversal_ids)
    for refund in refunds:
        if Transaction.objects.filter(
            transaction_type=TransactionType.CHARGEBACK, gateway_transaction_id=refund["id"]
        ).exists():
            continue  # a reversal already recorded: never a refund as well, never twice
        if refund["id"] in reversal_ids:
            if refund.get("status") == "COMPLETED":
                _chargeback(payment, refund, report)
            continue
        known = Transaction.objects.filter(
            transaction_type=TransactionType.REFUND, gateway_transaction_id=refund["id"]
        ).first()
        ours = str(refund.get("custom_id", ""))
        if known is None and ours.isdigit():
            known = Transaction.objects.filter(
                pk=int(ours), payment=payment, transaction_type=TransactionType.REFUND
            ).first()
        if known is not None:
            _settle(known, result_from_refund(refund), report)
        elif refund.get("status") == "COMPLETED" and _awaits_reversal(
            payment,
            disputed and not reversal_ids,  # a reversal's own event: the ledger decides
        ):
            # Under dispute, a refund we did not make is most likely PayPal's reversal, which
            # only its REVERSED event (or the transaction search) names: counted then, once.
            logger.warning("paypal_refund_deferred", payment_id=payment.pk, reference=refund["id"])
            report.unmatched.append(refund["id"])
        elif refund.get("status") == "COMPLETED":
            amount = Decimal(refund["amount"]["value"])
            _record(
                payment,
                TransactionType.REFUND,
                amount,
                refund["id"],
                "refunded in PayPal's dashboard",
                report,
            )


def payment_reconcile_paypal(
    *, order_id: str, disputed: bool = False, reversal_ids: tuple[str, ...] = ()
) -> ReconcileReport:
    """Read a PayPal order (no transaction open) and make its payment agree with it."""
    gateway = get_gateway("paypal")
    order = gateway.order(order_id)
    report = ReconcileReport(checked=1)
    payment = find_payment(order)
    if payment is None:
        report.unmatched.append(order_id)
        return report
    _settle_attempt(payment, order, report)
    payment.refresh_from_db()
    payments = (order.get("purchase_units") or [{}])[0].get("payments") or {}
    _follow_ups(payment, payments, report)
    payment.refresh_from_db()
    _refunds(payment, payments, reversal_ids, disputed, report)
    if disputed and not payment.disputed:
        with transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(disputed=True)
        report.repaired.append(f"payment {payment.pk}: marked disputed")
    return report


def order_id_of(kind: str, object_id: str) -> str:
    """Return the order a capture, authorization or refund belongs to, as PayPal says now."""
    gateway = get_gateway("paypal")
    if kind == "refunds":
        refund = gateway.read("refunds", object_id)
        up = next(
            (link["href"] for link in refund.get("links") or [] if link.get("rel") == "up"), ""
        )
        return order_id_of("captures", up.rstrip("/").rsplit("/", 1)[-1]) if up else ""
    found = gateway.read(kind, object_id)
    return ((found.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id", "")


def reconcile_paypal_since(since: datetime, *, repair: bool = True) -> ReconcileReport:
    """Compare every PayPal capture and refund since a date with our ledger; repair or report."""
    gateway = get_gateway("paypal")
    report = ReconcileReport()
    end, start, found = timezone.now(), since, []
    while start < end:
        stop = min(start + SEARCH_WINDOW, end)
        found.extend(
            gateway.transactions_since(
                start.strftime("%Y-%m-%dT%H:%M:%SZ"), stop.strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        )
        start = stop
    order_ids: dict[str, None] = {}
    # PayPal's search names reversals by their event code: recorded as chargebacks, not refunds.
    reversal_ids = tuple(
        (detail.get("transaction_info") or {}).get("transaction_id", "")
        for detail in found
        if (detail.get("transaction_info") or {}).get("transaction_event_code")
        in REVERSAL_EVENT_CODES
    )
    for detail in found:
        info = detail.get("transaction_info") or {}
        capture_id = (
            info["transaction_id"]
            if info.get("transaction_event_code") in CAPTURE_EVENT_CODES
            else info.get("paypal_reference_id", "")
        )
        if not repair:
            report.checked += 1
            if not Transaction.objects.filter(
                gateway_transaction_id=info.get("transaction_id")
            ).exists():
                report.unmatched.append(info.get("transaction_id", ""))
            continue
        if capture_id:
            order_id = order_id_of("captures", capture_id)
            if order_id:
                order_ids[order_id] = None
    for order_id in order_ids:
        one = payment_reconcile_paypal(order_id=order_id, reversal_ids=reversal_ids)
        report.checked += one.checked
        report.repaired.extend(one.repaired)
        report.unmatched.extend(one.unmatched)
    return report
