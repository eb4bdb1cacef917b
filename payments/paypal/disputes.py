"""PayPal disputes: read the dispute from PayPal's Disputes API and record it on our payment.

A dispute's status holds refunds while it is open (payments.rules) and tells Finance; the
money never follows from it here: when the buyer wins, PayPal reverses the capture, and that
reversal is what the ledger records (reconcile._chargeback), once.
"""

from datetime import datetime
from decimal import Decimal

from gamarriando import money
from gamarriando.logging import get_logger
from payments.gateways.registry import get_gateway
from payments.models import Dispute, DisputeStatus
from payments.paypal.reconcile import REVERSAL_REASON, find_payment
from payments.services.disputes import dispute_record

logger = get_logger(__name__)
# Outcomes in which the buyer keeps the money (PayPal reverses or the seller refunded).
BUYER_KEEPS = {"RESOLVED_BUYER_FAVOUR", "ACCEPTED"}


def dispute_status(dispute: dict) -> str:
    """Map PayPal's status, stage and outcome onto our dispute statuses."""
    inquiry = dispute.get("dispute_life_cycle_stage") == "INQUIRY"
    status = dispute.get("status", "")
    if status == "RESOLVED":
        outcome = (dispute.get("dispute_outcome") or {}).get("outcome_code", "")
        if outcome in BUYER_KEEPS:
            return DisputeStatus.LOST
        return DisputeStatus.WARNING_CLOSED if inquiry else DisputeStatus.WON
    waiting_for_us = status in ("OPEN", "WAITING_FOR_SELLER_RESPONSE")
    if inquiry:
        return (
            DisputeStatus.WARNING_NEEDS_RESPONSE
            if waiting_for_us
            else DisputeStatus.WARNING_UNDER_REVIEW
        )
    return DisputeStatus.NEEDS_RESPONSE if waiting_for_us else DisputeStatus.UNDER_REVIEW


def _due_by(dispute: dict) -> datetime | None:
    text = dispute.get("seller_response_due_date") or ""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def paypal_dispute_sync(*, dispute_id: str, order_id: str) -> Dispute | None:
    """Fetch a dispute and its order from PayPal (no transaction open) and record it."""
    gateway = get_gateway("paypal")
    dispute = gateway.dispute(dispute_id)
    payment = find_payment(gateway.order(order_id))
    if payment is None:
        logger.warning("paypal_dispute_without_payment", dispute_id=dispute_id)
        return None
    amount = dispute.get("dispute_amount") or {}
    if (amount.get("currency_code") or payment.currency).upper() != payment.currency:
        logger.warning("paypal_dispute_in_another_currency", dispute_id=dispute_id)
    recorded = dispute_record(
        payment_id=payment.pk,
        gateway="paypal",
        gateway_dispute_id=dispute["dispute_id"],
        amount=money.quantize(Decimal(amount.get("value") or payment.amount), payment.currency),
        currency=payment.currency,
        reason=(dispute.get("reason") or "").lower(),
        status=dispute_status(dispute),
        evidence_due_by=_due_by(dispute),
        ledger=False,
    )
    if recorded.status == DisputeStatus.WON:
        _give_back_reversals(recorded)
    return recorded


def _give_back_reversals(won: Dispute) -> None:
    """PayPal returns what it reversed when the seller wins: each reversal's dispute is won too."""
    reversals = Dispute.objects.filter(
        payment_id=won.payment_id,
        gateway="paypal",
        reason=REVERSAL_REASON,
        status=DisputeStatus.LOST,
    )
    for reversal in reversals:
        dispute_record(
            payment_id=reversal.payment_id,
            gateway="paypal",
            gateway_dispute_id=reversal.gateway_dispute_id,
            amount=reversal.amount,
            currency=reversal.currency,
            reason=reversal.reason,
            status=DisputeStatus.WON,
            evidence_due_by=None,
        )
