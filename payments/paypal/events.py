"""PayPal events in the worker: find the order an event is about, then reconcile with PayPal.

The event's payload only says where to look: the order (and so the payment) is read from
PayPal again before anything changes.
"""

from django.utils import timezone

from gamarriando.dead_letters import require_operations_permission
from gamarriando.logging import get_logger
from gamarriando.queue import enqueue_on_commit
from payments.dispute_transitions import OPEN
from payments.models import PayPalWebhookEvent, StripeEventStatus
from payments.paypal.disputes import paypal_dispute_sync
from payments.paypal.reconcile import order_id_of, payment_reconcile_paypal

logger = get_logger(__name__)
# Event type -> the kind of object its resource is (how to find its order).
HANDLED_EVENTS = {
    "CHECKOUT.ORDER.APPROVED": "orders",
    "PAYMENT.CAPTURE.COMPLETED": "captures",
    "PAYMENT.CAPTURE.DENIED": "captures",
    "PAYMENT.CAPTURE.PENDING": "captures",
    "PAYMENT.CAPTURE.REFUNDED": "refunds",
    "PAYMENT.CAPTURE.REVERSED": "refunds",
    "PAYMENT.AUTHORIZATION.VOIDED": "authorizations",
    "CUSTOMER.DISPUTE.CREATED": "disputes",
    "CUSTOMER.DISPUTE.UPDATED": "disputes",
    "CUSTOMER.DISPUTE.RESOLVED": "disputes",
}
DISPUTE_EVENTS = (
    "PAYMENT.CAPTURE.REVERSED",
    "CUSTOMER.DISPUTE.CREATED",
    "CUSTOMER.DISPUTE.UPDATED",
    "CUSTOMER.DISPUTE.RESOLVED",
)


def paypal_events_reprocess(*, event_ids: list[str], actor) -> int:
    """Queue stored events that did not finish for processing again; return how many.

    Raises:
        PermissionDeniedError: the actor may not run operations work.
    """
    require_operations_permission(actor)
    pending = list(
        PayPalWebhookEvent.objects.filter(pk__in=event_ids)
        .exclude(status=StripeEventStatus.PROCESSED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for event_id in pending:
        enqueue_on_commit("payments.process_paypal_event", event_id=event_id)
    return len(pending)


def order_id_for(event_type: str, resource: dict) -> str:
    """Return the PayPal order an event is about, asking PayPal where the payload is indirect."""
    kind = HANDLED_EVENTS.get(event_type)
    if kind == "orders":
        return str(resource.get("id", ""))
    if kind == "disputes":
        disputed = resource.get("disputed_transactions") or [{}]
        capture_id = str(disputed[0].get("seller_transaction_id", ""))
        return order_id_of("captures", capture_id) if capture_id else ""
    if kind:
        return order_id_of(kind, str(resource.get("id", "")))
    return ""


def paypal_event_process(*, event_id: str) -> None:
    """Apply one stored event by reconciling its order with PayPal; record the outcome."""
    stored = PayPalWebhookEvent.objects.get(pk=event_id)
    if stored.status == StripeEventStatus.PROCESSED:
        return
    try:
        resource = stored.payload.get("resource") or {}
        order_id = order_id_for(stored.type, resource)
        if order_id:
            payment_reconcile_paypal(
                order_id=order_id,
                disputed=stored.type in DISPUTE_EVENTS,
                reversal_ids=(str(resource.get("id", "")),)
                if stored.type == "PAYMENT.CAPTURE.REVERSED"
                else (),
            )
            if HANDLED_EVENTS.get(stored.type) == "disputes" and resource.get("dispute_id"):
                dispute = paypal_dispute_sync(
                    dispute_id=str(resource["dispute_id"]), order_id=order_id
                )
                if dispute is not None and dispute.status not in OPEN:
                    # Closed now: a refund put aside while it was open is recorded (or, the
                    # dispute lost, waits for its reversal), with no one running a reconcile.
                    payment_reconcile_paypal(order_id=order_id)
        else:
            logger.info("paypal_event_ignored", event_id=event_id, event_type=stored.type)
    except Exception as exc:
        PayPalWebhookEvent.objects.filter(pk=event_id).update(
            status=StripeEventStatus.FAILED,
            attempts=stored.attempts + 1,
            last_error=repr(exc)[:4000],
        )
        raise
    PayPalWebhookEvent.objects.filter(pk=event_id).update(
        status=StripeEventStatus.PROCESSED,
        attempts=stored.attempts + 1,
        last_error="",
        processed_at=timezone.now(),
    )
