"""Stripe events in the worker: dj-stripe mirrors them, thin receivers ask for reconciliation.

The reconciliation reads Stripe's current truth, never the event payload, and only settles
pending ledger rows or appends missing ones, so duplicated or reordered events can never
move a payment backwards.
"""

from django.utils import timezone
from djstripe.models import Event
from djstripe.signals import WEBHOOK_SIGNALS

from gamarriando.dead_letters import require_operations_permission
from gamarriando.finance_metrics import WEBHOOK_APPLY_LATENCY
from gamarriando.logging import get_logger
from gamarriando.queue import enqueue_on_commit
from payments.models import Payment, StripeEventStatus, StripeWebhookEvent

logger = get_logger(__name__)
HANDLED_EVENTS = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.requires_action",
    "payment_intent.amount_capturable_updated",
    "charge.refunded",
    "charge.refund.updated",
    "refund.updated",
    "refund.failed",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
]


def stripe_events_reprocess(*, event_ids: list[str], actor) -> int:
    """Queue stored events that did not finish for processing again; return how many.

    Raises:
        PermissionDeniedError: the actor may not run operations work.
    """
    require_operations_permission(actor)
    pending = list(
        StripeWebhookEvent.objects.filter(pk__in=event_ids)
        .exclude(status=StripeEventStatus.PROCESSED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for event_id in pending:
        enqueue_on_commit("payments.process_stripe_event", event_id=event_id)
    return len(pending)


def stripe_event_process(*, event_id: str) -> None:
    """Hand a stored event to dj-stripe (mirror objects, fire receivers); record the outcome."""
    stored = StripeWebhookEvent.objects.get(pk=event_id)
    if stored.status == StripeEventStatus.PROCESSED:
        return
    seen_by_djstripe = Event.objects.filter(id=event_id).exists()
    try:
        Event.process(data=stored.payload)
        if seen_by_djstripe:
            # dj-stripe runs receivers only once per event; a reprocess asks for reconciliation itself.
            enqueue_reconciliation(stored.type, stored.payload["data"]["object"])
    except Exception as exc:
        StripeWebhookEvent.objects.filter(pk=event_id).update(
            status=StripeEventStatus.FAILED,
            attempts=stored.attempts + 1,
            last_error=repr(exc)[:4000],
        )
        raise
    applied_at = timezone.now()
    StripeWebhookEvent.objects.filter(pk=event_id).update(
        status=StripeEventStatus.PROCESSED,
        attempts=stored.attempts + 1,
        last_error="",
        processed_at=applied_at,
    )
    WEBHOOK_APPLY_LATENCY.labels("stripe").observe(
        (applied_at - stored.received_at).total_seconds()
    )


def _payment_intent_id(obj: dict) -> str | None:
    if obj.get("object") == "payment_intent":
        return obj.get("id")
    return obj.get("payment_intent")


def enqueue_reconciliation(event_type: str, obj: dict) -> None:
    """Ask a worker to reconcile the payment an event is about (after commit)."""
    if event_type.startswith("charge.dispute.") and obj.get("id"):
        enqueue_on_commit("payments.sync_stripe_dispute", dispute_id=obj["id"])
    pi_id = _payment_intent_id(obj)
    if not pi_id:
        logger.info("stripe_event_without_payment_intent", event_type=event_type)
        return
    enqueue_on_commit(
        "payments.reconcile_stripe_payment",
        payment_intent_id=pi_id,
        disputed=event_type == "charge.dispute.created",
    )


def on_stripe_event(sender, event, **kwargs):
    """Thin receiver: after dj-stripe has mirrored the objects, ask for a reconciliation."""
    enqueue_reconciliation(event.type, event.data["object"])


def register_receivers() -> None:
    """Connect the receiver to every event type we act on (module-level: signals hold weak refs)."""
    for event_type in HANDLED_EVENTS:
        WEBHOOK_SIGNALS[event_type].connect(
            on_stripe_event, dispatch_uid=f"gamarriando:{event_type}"
        )


def find_payment(payment_intent: dict) -> Payment | None:
    """Find our payment for a PaymentIntent, by reference or by the metadata we sent."""
    payment = Payment.objects.filter(
        payment_method="stripe", gateway_transaction_id=payment_intent["id"]
    ).first()
    if payment is None:
        payment_id = (payment_intent.get("metadata") or {}).get("payment_id", "")
        if str(payment_id).isdigit():
            payment = Payment.objects.filter(pk=int(payment_id), payment_method="stripe").first()
    return payment
