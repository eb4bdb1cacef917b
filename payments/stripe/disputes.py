"""Stripe disputes: read the dispute's current state from Stripe and record it (never the payload)."""

from datetime import UTC, datetime

from gamarriando.logging import get_logger
from payments.gateways.registry import get_gateway
from payments.models import Dispute, Payment
from payments.services.disputes import dispute_record

logger = get_logger(__name__)


def stripe_dispute_sync(*, dispute_id: str) -> Dispute | None:
    """Fetch a dispute from Stripe (no transaction open) and record its status on our payment."""
    gateway = get_gateway("stripe")
    dispute = gateway.dispute(dispute_id)
    if dispute is None:
        logger.warning("stripe_dispute_unknown", dispute_id=dispute_id)
        return None
    payment = Payment.objects.filter(
        payment_method="stripe", gateway_transaction_id=dispute.get("payment_intent") or "-"
    ).first()
    if payment is None:
        logger.warning("stripe_dispute_without_payment", dispute_id=dispute_id)
        return None
    due_by = (dispute.get("evidence_details") or {}).get("due_by")
    return dispute_record(
        payment_id=payment.pk,
        gateway="stripe",
        gateway_dispute_id=dispute["id"],
        amount=gateway.minor_to_amount(dispute["amount"], dispute["currency"]),
        currency=dispute["currency"].upper(),
        reason=dispute.get("reason") or "",
        status=dispute["status"],
        evidence_due_by=datetime.fromtimestamp(due_by, tz=UTC) if due_by else None,
    )
