"""Stripe's webhook endpoint: verify the signature, store the event once, answer at once.

A worker applies it later (payments/stripe/events.py); see docs/stripe.md for why this view
is ours and not dj-stripe's.
"""

import json
import time
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gamarriando.errors import GatewayNotConfigured
from gamarriando.logging import get_logger
from gamarriando.metrics import WEBHOOK_EVENTS
from gamarriando.parsers import BodyRefused, check_nesting
from gamarriando.queue import enqueue_on_commit
from payments.inbound_webhooks import bounded_body, reject, storable
from payments.models import StripeWebhookEvent

logger = get_logger(__name__)


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
        # 503, not 400: Stripe keeps retrying, and the events arrive once the secret is set.
        return reject(request, "Stripe webhooks are not configured.", GatewayNotConfigured)
    body = bounded_body(request)
    if body is None:
        return reject(request, f"The body is larger than {settings.API_MAX_BODY_BYTES} bytes.")
    header = request.headers.get("Stripe-Signature", "")
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    try:
        payload = body.decode("utf-8")
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        return reject(request, "Bad or missing Stripe-Signature.")
    signed_at = _timestamp(header)
    if signed_at is None or signed_at > time.time() + tolerance:
        return reject(request, "The signature's timestamp is in the future.")
    try:
        check_nesting(payload)
        event = json.loads(payload)
        event_id, event_type, created = event["id"], event["type"], int(event["created"])
        event["data"]["object"]  # noqa: B018 - shape check
        if not (isinstance(event_id, str) and storable(event_id, event)):
            raise TypeError("id")
    except (ValueError, KeyError, TypeError, BodyRefused):
        return reject(request, "Not a Stripe event.")
    stored = stripe_event_store(
        event_id=event_id, event_type=event_type, created=created, payload=event
    )
    return JsonResponse({"received": True, "duplicate": not stored})


def stripe_event_store(*, event_id: str, event_type: str, created: int, payload: dict) -> bool:
    """Store an event once and enqueue its processing; False when it was seen before."""
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
            enqueue_on_commit("payments.process_stripe_event", event_id=event_id)
    except IntegrityError:
        WEBHOOK_EVENTS.labels(event_type, "true").inc()
        return False
    WEBHOOK_EVENTS.labels(event_type, "false").inc()
    return True
