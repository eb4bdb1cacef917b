"""Stripe webhooks: verify and store (web), process through dj-stripe (worker), reconcile.

The view only verifies the signature, stores the raw event once and enqueues it. The worker
hands it to dj-stripe, whose thin receivers enqueue a reconciliation of the payment. The
reconciliation reads Stripe's current truth, never the event payload, and only settles
pending ledger rows or appends missing ones, so duplicated or reordered events can never
move a payment backwards.
"""

import json
import time
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gamarriando.errors import ApplicationError, error_body
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
    "charge.dispute.created",
]


def _reject(request, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse(
        error_body("VALIDATION_ERROR", message, {}, getattr(request, "request_id", "")),
        status=status,
    )


def _timestamp(header: str) -> int | None:
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "t" and value.strip().isdigit():
            return int(value)
    return None


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Verify a Stripe event, store it once and answer at once; a worker applies it."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        return _reject(request, "Stripe webhooks are not configured.", status=503)
    header = request.headers.get("Stripe-Signature", "")
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    try:
        payload = request.body.decode("utf-8")
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        return _reject(request, "Bad or missing Stripe-Signature.")
    signed_at = _timestamp(header)
    if signed_at is None or signed_at > time.time() + tolerance:
        return _reject(request, "The signature's timestamp is in the future.")
    try:
        event = json.loads(payload)
        event_id, event_type, created = event["id"], event["type"], int(event["created"])
        event["data"]["object"]  # noqa: B018 - shape check
    except (ValueError, KeyError, TypeError):
        return _reject(request, "Not a Stripe event.")
    stored = stripe_event_store(
        event_id=event_id, event_type=event_type, created=created, payload=event
    )
    return JsonResponse({"received": True, "duplicate": not stored})


def stripe_event_store(*, event_id: str, event_type: str, created: int, payload: dict) -> bool:
    """Store an event once and enqueue its processing; False when it was seen before."""
    from payments.tasks import process_stripe_event

    try:
        with transaction.atomic():
            # Insert first: the primary key on Stripe's event id is the duplicate check.
            StripeWebhookEvent.objects.create(
                id=event_id,
                type=event_type,
                livemode=bool(payload.get("livemode")),
                stripe_created=datetime.fromtimestamp(created, tz=UTC),
                payload=payload,
            )
            enqueue_on_commit(process_stripe_event, event_id=event_id)
    except IntegrityError:
        return False
    return True


def stripe_event_process(*, event_id: str) -> None:
    """Hand a stored event to dj-stripe (mirror objects, fire receivers); record the outcome."""
    from djstripe.models import Event

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
    StripeWebhookEvent.objects.filter(pk=event_id).update(
        status=StripeEventStatus.PROCESSED,
        attempts=stored.attempts + 1,
        last_error="",
        processed_at=timezone.now(),
    )


def _payment_intent_id(obj: dict) -> str | None:
    if obj.get("object") == "payment_intent":
        return obj.get("id")
    return obj.get("payment_intent")


def enqueue_reconciliation(event_type: str, obj: dict) -> None:
    """Ask a worker to reconcile the payment an event is about (after commit)."""
    from payments.tasks import reconcile_stripe_payment

    pi_id = _payment_intent_id(obj)
    if not pi_id:
        logger.info("stripe_event_without_payment_intent", event_type=event_type)
        return
    enqueue_on_commit(
        reconcile_stripe_payment,
        payment_intent_id=pi_id,
        disputed=event_type == "charge.dispute.created",
    )


def on_stripe_event(sender, event, **kwargs):
    """Thin receiver: after dj-stripe has mirrored the objects, ask for a reconciliation."""
    enqueue_reconciliation(event.type, event.data["object"])


def register_receivers() -> None:
    """Connect the receiver to every event type we act on (module-level: signals hold weak refs)."""
    from djstripe.signals import WEBHOOK_SIGNALS

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


class StripeReconcileError(ApplicationError):
    code, http_status = "GATEWAY_ERROR", 502
