"""Stripe webhooks: signatures, storage, duplicates, ordering, dashboard refunds, disputes."""

import json
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from djstripe.models import Event
from djstripe.models import PaymentIntent as MirroredPaymentIntent

from orders.tests.factories import ProductFactory
from payments.models import Payment, StripeWebhookEvent
from payments.tasks import process_stripe_event
from tests.fake_stripe import sign
from tests.helpers import make_order, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "whsec_test_secret"


def post_event(client, event, *, secret=SECRET, timestamp=None, signature=None):
    body = json.dumps(event)
    header = signature if signature is not None else sign(body, secret, timestamp)
    return client.post(
        "/webhooks/stripe", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


@pytest.fixture
def paid_with_stripe(api, customer, fake_stripe):
    product = ProductFactory(price=Decimal("50.00"), stock=10)
    order = make_order(customer, product)
    payment = make_payment(customer, order, method="stripe")
    api(customer).post(
        f"/api/v1/payments/{payment.pk}/process",
        {"payment_method_id": "pm_card_visa"},
        format="json",
    )
    payment.refresh_from_db()
    assert payment.status == "completed"
    return order, payment, fake_stripe.payment_intents[payment.gateway_transaction_id]


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
    barrier, codes = threading.Barrier(10), []

    def deliver():
        try:
            barrier.wait()
            codes.append(post_event(Client(), event).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert codes == [200] * 10
    assert StripeWebhookEvent.objects.count() == 1
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("15.00")
    assert Transaction.objects.filter(transaction_type="refund").count() == 1


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


def test_reconcile_stripe_command_repairs_and_reports(paid_with_stripe, fake_stripe):
    from io import StringIO

    from django.core.management import call_command

    _, payment, pi = paid_with_stripe
    fake_stripe.dashboard_refund(pi["id"], 500)  # Stripe knows; no webhook reached us
    out = StringIO()
    call_command("reconcile_stripe", "--since", "2000-01-01", "--dry-run", stdout=out)
    assert "checked 1" in out.getvalue()
    assert not Transaction.objects.filter(transaction_type="refund").exists()
    call_command("reconcile_stripe", "--since", "2000-01-01", stdout=out)
    assert f"payment {payment.pk}: recorded refund 5.00" in out.getvalue()
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("5.00")
    assert Payment.objects.get(pk=payment.pk).status == "partially_refunded"


def test_stripe_5xx_is_retried_then_gateway_error(api, customer, fake_stripe):
    order = make_order(customer, ProductFactory(price=Decimal("30.00"), stock=5))
    payment = make_payment(customer, order, method="stripe")
    fake_stripe.fail_next_with_500 = 100
    body = (
        api(customer)
        .post(
            f"/api/v1/payments/{payment.pk}/process",
            {"payment_method_id": "pm_card_visa"},
            format="json",
        )
        .json()
    )
    assert (body["status"], body["failure_code"]) == ("failed", "gateway_error")
    assert fake_stripe.count("payment_intents") == 0


def test_finance_refunds_a_stripe_payment_from_the_admin_and_sees_the_webhook(
    client, finance, paid_with_stripe, fake_stripe
):
    order, payment, pi = paid_with_stripe
    client.force_login(finance)
    url = f"/admin/payments/payment/{payment.pk}/refund/"
    nonce = str(client.get(url).context["form"].initial["nonce"])
    client.post(url, {"nonce": nonce, "amount": "12.50", "reason": "stain"})
    client.post(url, {"nonce": nonce, "amount": "12.50", "reason": "stain", "confirm": "True"})
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("12.50")
    assert fake_stripe.refunded_total(pi["id"]) == 1250
    post_event(
        client, fake_stripe.event("charge.refunded", fake_stripe.charges[pi["latest_charge"]])
    )
    assert (
        Transaction.objects.filter(transaction_type="refund").count() == 1
    )  # the webhook adds nothing new
    timeline = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "charge.refunded (processed)" in timeline
