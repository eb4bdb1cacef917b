"""POST /webhooks/stripe: signatures, storage, and duplicates one at a time or at once."""

import json
import time
from decimal import Decimal

import pytest
from djstripe.models import Event
from djstripe.models import PaymentIntent as MirroredPaymentIntent

from payments.models import StripeWebhookEvent
from payments.tests.helpers import SECRET, post_event
from tests.fake_stripe import sign
from tests.threads import run_concurrently
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_valid_event_is_stored_mirrored_and_applied(client, paid_with_stripe, fake_stripe):
    _, payment, pi = paid_with_stripe
    event = fake_stripe.event("payment_intent.succeeded", pi)
    response = post_event(client, event)
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    stored = StripeWebhookEvent.objects.get(pk=event["id"])
    assert stored.status == "processed"
    assert Event.objects.filter(id=event["id"]).exists()
    payment.refresh_from_db()
    assert payment.stripe_payment_intent == MirroredPaymentIntent.objects.get(id=pi["id"])


@pytest.mark.parametrize(
    "make_header",
    [
        lambda body: "",
        lambda body: sign(body, "whsec_wrong"),
        lambda body: sign(body, SECRET, int(time.time()) - 301),
        lambda body: sign(body, SECRET, int(time.time()) + 301),
        lambda body: "t=abc,v1=deadbeef",
    ],
    ids=["missing", "wrong-secret", "301s-old", "301s-future", "garbage"],
)
def test_bad_signatures_are_400_and_store_nothing(client, fake_stripe, make_header):
    event = fake_stripe.event(
        "payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"}
    )
    body = json.dumps(event)
    response = client.post(
        "/webhooks/stripe",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=make_header(body),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert not StripeWebhookEvent.objects.exists()
    assert fake_stripe.requests == []


def test_within_tolerance_is_accepted(client, fake_stripe, paid_with_stripe):
    _, _, pi = paid_with_stripe
    for offset in (-290, 290):
        event = fake_stripe.event("payment_intent.succeeded", pi)
        assert post_event(client, event, timestamp=int(time.time()) + offset).status_code == 200


def test_the_same_event_ten_times_applies_once(client, paid_with_stripe, fake_stripe):
    _, payment, pi = paid_with_stripe
    fake_stripe.dashboard_refund(pi["id"], 1000)
    event = fake_stripe.event("charge.refunded", fake_stripe.charges[pi["latest_charge"]])
    answers = [post_event(client, event).json()["duplicate"] for _ in range(10)]
    assert answers == [False] + [True] * 9
    assert StripeWebhookEvent.objects.count() == 1
    assert Transaction.objects.filter(transaction_type="refund").count() == 1


@pytest.mark.postgres
def test_the_same_event_ten_times_concurrently_applies_once(paid_with_stripe, fake_stripe):
    from django.test import Client

    _, payment, pi = paid_with_stripe
    fake_stripe.dashboard_refund(pi["id"], 1500)
    event = fake_stripe.event("charge.refunded", fake_stripe.charges[pi["latest_charge"]])
    codes = run_concurrently(10, lambda _: post_event(Client(), event).status_code)
    assert codes == [200] * 10
    assert StripeWebhookEvent.objects.count() == 1
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("15.00")
    assert Transaction.objects.filter(transaction_type="refund").count() == 1
