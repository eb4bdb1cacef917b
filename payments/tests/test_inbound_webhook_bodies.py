"""Stripe's and PayPal's webhook views answer every body with the envelope, never a 500."""

import json

import pytest
from django.test import Client, override_settings

from payments.models import PayPalWebhookEvent, StripeWebhookEvent
from payments.tests.helpers import SECRET
from tests.fake_stripe import sign

pytestmark = pytest.mark.django_db(transaction=True)


def post(path, body: str, **headers):
    client = Client(raise_request_exception=False)
    return client.post(path, data=body, content_type="application/json", headers=headers)


def to_stripe(event: dict):
    body = json.dumps(event)
    return post("/webhooks/stripe", body, **{"Stripe-Signature": sign(body, SECRET)})


def to_paypal(fake, event: dict):
    return post("/webhooks/paypal", json.dumps(event), **fake.sign(event))


def refused(response, code="VALIDATION_ERROR", status=400) -> str:
    assert response.status_code == status, response.content[:300]
    assert response.json()["error"]["code"] == code
    return response.json()["error"]["message"]


def stripe_event(fake, **changes):
    return {**fake.event("payment_intent.succeeded", {"id": "pi_x", "object": "pi"}), **changes}


def paypal_event(fake, **changes):
    resource = {"id": "CAP-1", "status": "COMPLETED"}
    return {**fake.event("PAYMENT.CAPTURE.COMPLETED", resource), **changes}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2_000, API_MAX_BODY_BYTES=100_000)
def test_a_body_past_djangos_limit_is_refused_in_the_envelope(fake_stripe, fake_paypal):
    """Django's own refusal (RequestDataTooBig) would be a 500 from these views."""
    padding = "x" * 5_000
    assert "larger" in refused(to_stripe(stripe_event(fake_stripe, padding=padding)))
    assert "larger" in refused(to_paypal(fake_paypal, paypal_event(fake_paypal, padding=padding)))
    assert not StripeWebhookEvent.objects.exists() and not PayPalWebhookEvent.objects.exists()


@override_settings(API_MAX_BODY_BYTES=1_000)
def test_a_body_past_our_limit_is_refused_unread(fake_stripe, fake_paypal):
    padding = "x" * 2_000
    assert "larger" in refused(to_stripe(stripe_event(fake_stripe, padding=padding)))
    assert "larger" in refused(to_paypal(fake_paypal, paypal_event(fake_paypal, padding=padding)))


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "evt_" + "x" * 300},
        {"note": "nul \u0000 inside"},
        {"deep": json.loads("[" * 40 + "]" * 40)},
    ],
    ids=["id-too-long", "nul-character", "nested-too-deep"],
)
def test_an_event_that_cannot_be_stored_is_refused_not_retried_as_500(
    fake_stripe, fake_paypal, changes
):
    assert refused(to_stripe(stripe_event(fake_stripe, **changes))) == "Not a Stripe event."
    assert refused(to_paypal(fake_paypal, paypal_event(fake_paypal, **changes))) == (
        "Not a PayPal event."
    )
    assert not StripeWebhookEvent.objects.exists() and not PayPalWebhookEvent.objects.exists()


def test_not_configured_answers_503_with_retry_after(settings, fake_stripe, fake_paypal):
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.PAYPAL_WEBHOOK_ID = ""
    for response in (
        to_stripe(stripe_event(fake_stripe)),
        to_paypal(fake_paypal, paypal_event(fake_paypal)),
    ):
        refused(response, "GATEWAY_NOT_CONFIGURED", 503)
        assert int(response["Retry-After"]) > 0
