"""PayPal's webhook endpoint: verify with PayPal, store the event once, answer at once.

A worker applies it later (payments/paypal/events.py), reading PayPal's current state first.
"""

import json
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gamarriando.errors import GatewayNotConfigured, ServiceUnavailable
from gamarriando.logging import get_logger
from gamarriando.parsers import BodyRefused, check_nesting
from gamarriando.queue import enqueue_on_commit
from payments.gateways.base import GatewayRetryableError
from payments.inbound_webhooks import bounded_body, reject, storable
from payments.models import PayPalWebhookEvent
from payments.paypal import client
from payments.paypal.client import PayPalError
from payments.paypal.gateway import PayPalGateway

logger = get_logger(__name__)
# PayPal's header -> the field name its verify-webhook-signature call expects.
SIGNATURE_HEADERS = {
    "PAYPAL-TRANSMISSION-ID": "transmission_id",
    "PAYPAL-TRANSMISSION-TIME": "transmission_time",
    "PAYPAL-TRANSMISSION-SIG": "transmission_sig",
    "PAYPAL-CERT-URL": "cert_url",
    "PAYPAL-AUTH-ALGO": "auth_algo",
}


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


@csrf_exempt
@require_POST
def paypal_webhook(request):
    """Verify a PayPal event with PayPal, store it once and answer at once; a worker applies it."""
    if not (client.configured() and settings.PAYPAL_WEBHOOK_ID):
        # 503, not 400: PayPal keeps retrying, and the events arrive once we are configured.
        return reject(request, "PayPal webhooks are not configured.", GatewayNotConfigured)
    body = bounded_body(request)
    if body is None:
        return reject(request, f"The body is larger than {settings.API_MAX_BODY_BYTES} bytes.")
    signature = {field: request.headers.get(name, "") for name, field in SIGNATURE_HEADERS.items()}
    if not all(signature.values()):
        return reject(request, "Missing PayPal transmission headers.")
    sent_at = _parse_time(signature["transmission_time"])
    tolerance = settings.PAYPAL_WEBHOOK_TOLERANCE_SECONDS
    if sent_at is None or abs((timezone.now() - sent_at).total_seconds()) > tolerance:
        return reject(request, "The transmission time is missing or more than 300 s off.")
    try:
        text = body.decode("utf-8")
        check_nesting(text)  # read before PayPal verifies it: never parse a bracket bomb
        event = json.loads(text)
        event_id = str(event["id"])
        str(event["event_type"])
        resource = event["resource"]
        if not isinstance(resource, dict) or not storable(event_id, event):
            raise TypeError("resource")
    except (ValueError, KeyError, TypeError, BodyRefused):
        return reject(request, "Not a PayPal event.")
    try:
        verified = PayPalGateway().verify_webhook(headers=signature, event=event)
    except (GatewayRetryableError, PayPalError) as exc:
        logger.warning("paypal_webhook_unverified", event_id=event_id, error=str(exc)[:200])
        return reject(request, "PayPal could not verify the event now.", ServiceUnavailable)
    if not verified:
        return reject(request, "PayPal did not verify this event's signature.")
    stored = paypal_event_store(event=event, transmission_id=signature["transmission_id"])
    return JsonResponse({"received": True, "duplicate": not stored})


def paypal_event_store(*, event: dict, transmission_id: str = "") -> bool:
    """Store an event once and enqueue its processing; False when it was seen before."""
    event_type = str(event["event_type"])
    try:
        with transaction.atomic():
            # Insert first: the primary key on PayPal's event id is the duplicate check.
            PayPalWebhookEvent.objects.create(
                id=str(event["id"]),
                type=event_type[:100],
                resource_id=str(event["resource"].get("id", ""))[:255],
                paypal_created=_parse_time(str(event.get("create_time", ""))),
                transmission_id=transmission_id[:255],
                payload=event,
            )
            enqueue_on_commit("payments.process_paypal_event", event_id=str(event["id"]))
    except IntegrityError:
        logger.info("paypal_webhook_duplicate", event_id=str(event["id"]), event_type=event_type)
        return False
    return True
