"""Requests and counts the payment tests share: process a payment, post a signed Stripe event."""

import json

from payments.models import SimulatedGatewayOperation
from tests.fake_stripe import sign
from tests.helpers import post_process

SECRET = "whsec_test_secret"


def process(client, payment_id, token="tok_success", **extra):
    return post_process(client, payment_id, token, **extra)


def charges():
    return SimulatedGatewayOperation.objects.filter(kind__in=["charge", "authorization"]).count()


def post_event(client, event, *, secret=SECRET, timestamp=None, signature=None):
    body = json.dumps(event)
    header = signature if signature is not None else sign(body, secret, timestamp)
    return client.post(
        "/webhooks/stripe", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
