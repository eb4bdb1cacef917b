"""Stripe events applied to payments: dashboard refunds, order, late charges, disputes, failures."""

import time
from decimal import Decimal

import pytest

from orders.tests.factories import ProductFactory
from payments.models import StripeWebhookEvent
from payments.tasks import process_stripe_event
from payments.tests.helpers import post_event
from tests.helpers import make_order, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_dashboard_refund_appears_in_the_ledger_once(client, paid_with_stripe, fake_stripe):
    order, payment, pi = paid_with_stripe
    refund = fake_stripe.dashboard_refund(pi["id"], 2000)
    event = fake_stripe.event("charge.refunded", fake_stripe.charges[pi["latest_charge"]])
    post_event(client, event)
    post_event(
        client, fake_stripe.event("refund.updated", refund)
    )  # a second event about the same refund
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("20.00"))
    row = Transaction.objects.get(transaction_type="refund")
    assert (row.gateway_transaction_id, row.status, row.reason) == (
        refund["id"],
        "succeeded",
        "refunded in the Stripe Dashboard",
    )


def test_events_out_of_order_never_move_a_payment_backwards(client, paid_with_stripe, fake_stripe):
    _, payment, pi = paid_with_stripe
    old_state = dict(pi)
    fake_stripe.dashboard_refund(pi["id"], 5000)
    refunded = fake_stripe.event("charge.refunded", fake_stripe.charges[pi["latest_charge"]])
    older = fake_stripe.event("payment_intent.succeeded", old_state, created=int(time.time()) - 60)
    post_event(client, refunded)
    post_event(client, older)  # arrives late, describes an earlier moment
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("50.00"))


def test_a_timed_out_charge_is_completed_by_its_webhook(api, client, customer, fake_stripe):
    order = make_order(customer, ProductFactory(price=Decimal("30.00"), stock=5))
    payment = make_payment(customer, order, method="stripe")
    original = fake_stripe.handle

    def dropping(method, path, *rest):
        answer = original(method, path, *rest)
        if (method, path) == ("POST", "/v1/payment_intents"):
            fake_stripe.drop_next_response = True
        return answer

    fake_stripe.handle = dropping
    api(customer).post(
        f"/api/v1/payments/{payment.pk}/process",
        {"payment_method_id": "pm_card_visa"},
        format="json",
    )
    fake_stripe.handle = original
    payment.refresh_from_db()
    assert payment.status == "processing"
    pi = next(iter(fake_stripe.payment_intents.values()))
    post_event(client, fake_stripe.event("payment_intent.succeeded", pi))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == ("completed", "paid")
    assert fake_stripe.count("payment_intents") == 1


def test_a_dispute_marks_the_payment_for_staff(client, paid_with_stripe, fake_stripe):
    _, payment, pi = paid_with_stripe
    dispute = {
        "id": "dp_fake1",
        "object": "dispute",
        "amount": 5000,
        "currency": "pen",
        "charge": pi["latest_charge"],
        "payment_intent": pi["id"],
        "status": "needs_response",
        "reason": "fraudulent",
        "created": int(time.time()),
        "livemode": False,
        "metadata": {},
    }
    post_event(client, fake_stripe.event("charge.dispute.created", dispute))
    payment.refresh_from_db()
    assert payment.disputed is True


def test_a_failing_handler_stays_stored_and_can_be_reprocessed(
    client, paid_with_stripe, fake_stripe
):
    _, payment, pi = paid_with_stripe
    fake_stripe.dashboard_refund(pi["id"], 1000)
    event = fake_stripe.event("charge.refunded", fake_stripe.charges[pi["latest_charge"]])
    fake_stripe.fail_next_with_500 = 50  # Stripe is down while we process
    assert post_event(client, event).status_code == 200  # still acknowledged: it is stored
    stored = StripeWebhookEvent.objects.get(pk=event["id"])
    assert stored.status == "failed"
    assert stored.last_error
    assert not Transaction.objects.filter(transaction_type="refund").exists()
    fake_stripe.fail_next_with_500 = 0
    process_stripe_event.delay(event_id=event["id"])  # what the admin's "reprocess" does
    stored.refresh_from_db()
    assert stored.status == "processed"
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("10.00")
