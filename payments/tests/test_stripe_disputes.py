"""Stripe disputes: each charge.dispute.* event records Stripe's current dispute on the payment."""

import time
from decimal import Decimal

import pytest
from django.core import mail
from prometheus_client import REGISTRY

from payments.models import Dispute
from payments.tests.helpers import post_event
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["card", "wallet"])
def wallet_refund_destination(request):
    """A refund back to the card, or to store credit (which no gateway would refuse)."""
    return {} if request.param == "card" else {"destination": "wallet"}


def test_stripe_dispute_events_record_the_dispute_and_its_loss(
    client,
    api,
    customer,
    finance,
    paid_with_stripe,  # noqa: F811  (the fixture imported above)
    fake_stripe,
):
    _, payment, pi = paid_with_stripe
    mail.outbox.clear()
    applied = (
        REGISTRY.get_sample_value("gamarriando_webhook_apply_seconds_count", {"gateway": "stripe"})
        or 0
    )
    due = int(time.time()) + 7 * 86400
    opened = fake_stripe.dispute(pi["id"], status="needs_response", amount=5000, due_by=due)
    assert (
        post_event(client, fake_stripe.event("charge.dispute.created", opened)).status_code == 200
    )
    dispute = Dispute.objects.get()
    assert (dispute.gateway, dispute.amount, dispute.currency, dispute.status) == (
        "stripe",
        Decimal("50.00"),
        "PEN",
        "needs_response",
    )
    assert int(dispute.evidence_due_by.timestamp()) == due
    assert [m.subject for m in mail.outbox] == ["A payment was disputed"]
    body = api(customer).get(f"/api/v1/payments/{payment.pk}").json()
    assert (body["disputed"], body["dispute_status"]) == (True, "needs_response")

    # The event's payload is stale ("needs_response"); Stripe's current word ("lost") wins.
    fake_stripe.dispute(pi["id"], status="lost", amount=5000, due_by=due, dp_id=opened["id"])
    post_event(client, fake_stripe.event("charge.dispute.closed", opened))
    dispute.refresh_from_db()
    assert dispute.status == "lost" and dispute.closed_at is not None
    row = Transaction.objects.get(payment=payment, transaction_type="chargeback")
    assert (row.amount, row.gateway_transaction_id, row.status) == (
        Decimal("50.00"),
        opened["id"],
        "succeeded",
    )
    post_event(client, fake_stripe.event("charge.dispute.closed", opened))  # a duplicate
    assert Transaction.objects.filter(transaction_type="chargeback").count() == 1
    # Received -> applied latency, observed once per event applied.
    count = REGISTRY.get_sample_value(
        "gamarriando_webhook_apply_seconds_count", {"gateway": "stripe"}
    )
    assert count - applied == 3


def test_disputed_money_is_not_refunded_twice(
    client, api, finance, paid_with_stripe, fake_stripe, wallet_refund_destination
):
    """Open dispute: no refund at all; lost: what the bank took back is no longer refundable."""
    _, payment, pi = paid_with_stripe
    due = int(time.time()) + 7 * 86400
    opened = fake_stripe.dispute(pi["id"], status="needs_response", amount=3000, due_by=due)
    post_event(client, fake_stripe.event("charge.dispute.created", opened))
    refund = {"amount": "10.00", "reason": "goodwill", **wallet_refund_destination}
    answer = api(finance).post(f"/api/v1/payments/{payment.pk}/refund", refund, format="json")
    assert answer.status_code == 409, answer.json()
    assert answer.json()["error"]["code"] == "REFUND_NOT_ELIGIBLE"
    assert answer.json()["error"]["details"] == {"dispute_status": "needs_response"}
    assert not Transaction.objects.filter(payment=payment, transaction_type="refund").exists()

    fake_stripe.dispute(pi["id"], status="lost", amount=3000, due_by=due, dp_id=opened["id"])
    post_event(client, fake_stripe.event("charge.dispute.closed", opened))
    body = api(finance).get(f"/api/v1/payments/{payment.pk}").json()
    assert body["refundable_amount"] == "20.00"  # 50.00 captured, 30.00 charged back
    too_much = {"amount": "20.01", "reason": "goodwill", **wallet_refund_destination}
    answer = api(finance).post(f"/api/v1/payments/{payment.pk}/refund", too_much, format="json")
    assert answer.json()["error"]["code"] == "REFUND_EXCEEDS_REFUNDABLE", answer.json()
    assert answer.json()["error"]["details"] == {"refundable_amount": "20.00"}
