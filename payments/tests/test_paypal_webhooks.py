"""PayPal webhooks: verified with PayPal, stored once, applied from PayPal's current state."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from structlog.testing import capture_logs

from gamarriando.errors import PermissionDeniedError
from gamarriando.events import OutboxEvent
from payments.models import Dispute, PayPalWebhookEvent
from payments.paypal.events import paypal_events_reprocess
from payments.paypal.reconcile import payment_reconcile_paypal
from payments.services import payment_refund
from payments.tests.test_paypal_flow import paypal_payment, process, start
from tests.threads import run_concurrently
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def deliver(fake, event, **sign):
    """POST an event to our endpoint the way PayPal does."""
    headers = fake.sign(event, **sign)
    return Client().post(
        "/webhooks/paypal", data=json.dumps(event), content_type="application/json", headers=headers
    )


def order_event(fake, order_id, event_type="CHECKOUT.ORDER.APPROVED"):
    return fake.event(event_type, fake._order_view(fake.orders[order_id]))


def paid(api, customer, fake, **kwargs):
    order, payment, order_id = start(api, customer, fake, **kwargs)
    fake.approve(order_id)
    assert process(api(customer), payment).json()["status"] == "completed"
    [capture] = fake.captures_of(order_id)
    return payment, order_id, capture


def test_approve_and_close_the_tab_the_webhook_captures(api, customer, fake_paypal):
    order, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id)  # the buyer approves and never comes back
    response = deliver(fake_paypal, order_event(fake_paypal, order_id))
    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "duplicate": False}
    payment.refresh_from_db()
    assert payment.status == "completed"
    assert len(fake_paypal.captures_of(order_id)) == 1
    assert PayPalWebhookEvent.objects.get().status == "processed"
    # A late return of the storefront charges nothing more.
    late = process(api(customer), payment)
    assert late.status_code == 409
    assert len(fake_paypal.captures_of(order_id)) == 1
    order.refresh_from_db()
    assert order.status == "paid"


def test_a_bad_signature_is_refused_and_nothing_is_stored(api, customer, fake_paypal):
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id)
    event = order_event(fake_paypal, order_id)
    headers = fake_paypal.sign(event)
    headers["PAYPAL-TRANSMISSION-SIG"] = "0" * 32
    response = Client().post(
        "/webhooks/paypal", data=json.dumps(event), content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    # A valid signature of another event does not carry over to a forged body either.
    forged = dict(event, id="WH-FORGED")
    response = Client().post(
        "/webhooks/paypal",
        data=json.dumps(forged),
        content_type="application/json",
        headers=fake_paypal.sign(event),
    )
    assert response.status_code == 400
    missing = Client().post("/webhooks/paypal", data="{}", content_type="application/json")
    assert missing.status_code == 400
    assert not PayPalWebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == "requires_action"
    assert fake_paypal.captures == {}


@pytest.mark.parametrize("offset", [timedelta(seconds=-301), timedelta(seconds=301)])
def test_a_stale_or_future_transmission_is_refused(api, customer, fake_paypal, offset):
    _, _, order_id = start(api, customer, fake_paypal)
    event = order_event(fake_paypal, order_id)
    at = (datetime.now(UTC) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = deliver(fake_paypal, event, transmission_time=at)
    assert response.status_code == 400
    assert not PayPalWebhookEvent.objects.exists()
    assert fake_paypal.count("POST", "verify-webhook-signature") == 0


def test_unconfigured_webhooks_answer_503(api, customer, fake_paypal, settings):
    settings.PAYPAL_WEBHOOK_ID = ""
    response = Client().post("/webhooks/paypal", data="{}", content_type="application/json")
    assert response.status_code == 503


@pytest.mark.postgres
def test_ten_concurrent_duplicates_apply_once(api, customer, fake_paypal):
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id)
    event = order_event(fake_paypal, order_id)
    codes = run_concurrently(10, lambda _: deliver(fake_paypal, event).status_code)
    assert codes == [200] * 10
    assert PayPalWebhookEvent.objects.count() == 1
    assert len(fake_paypal.captures_of(order_id)) == 1
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("completed", Decimal("59.98"))
    assert Transaction.objects.filter(payment=payment).count() == 1


def test_a_dashboard_refund_lands_once_and_reordered_events_never_go_backwards(
    api, customer, fake_paypal
):
    payment, order_id, capture = paid(api, customer, fake_paypal, price="100.00")
    refund = fake_paypal.dashboard_refund(capture["id"], "30.00")
    refunded = fake_paypal.event("PAYMENT.CAPTURE.REFUNDED", refund)
    assert deliver(fake_paypal, refunded).status_code == 200
    assert deliver(fake_paypal, refunded).json()["duplicate"] is True
    # Older events arrive late: the approval and the capture's completion.
    assert deliver(fake_paypal, order_event(fake_paypal, order_id)).status_code == 200
    completed = fake_paypal.event("PAYMENT.CAPTURE.COMPLETED", capture)
    assert deliver(fake_paypal, completed).status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("30.00"))
    row = Transaction.objects.get(payment=payment, transaction_type="refund")
    assert (row.gateway_transaction_id, row.status) == (refund["id"], "succeeded")
    assert "dashboard" in row.reason
    assert len(fake_paypal.captures_of(order_id)) == 1
    # The command finds nothing more to do.
    out = StringIO()
    call_command("reconcile_paypal", "--since", "2020-01-01", stdout=out)
    assert "no differences" in out.getvalue()
    assert Transaction.objects.filter(payment=payment, transaction_type="refund").count() == 1


def reverse(fake, capture, amount="59.98"):
    """PayPal reverses a capture (a chargeback) and tells us twice, under two event ids."""
    reversal = fake.dashboard_refund(capture["id"], amount, reversal=True)
    for _ in range(2):
        event = fake.event("PAYMENT.CAPTURE.REVERSED", reversal)
        assert deliver(fake, event).status_code == 200
    return reversal


def test_a_reversal_is_a_lost_dispute_with_one_chargeback_row(api, customer, fake_paypal):
    payment, _, capture = paid(api, customer, fake_paypal)
    reversal = reverse(fake_paypal, capture)
    dispute = Dispute.objects.get()
    assert (dispute.payment_id, dispute.gateway, dispute.gateway_dispute_id) == (
        payment.pk,
        "paypal",
        reversal["id"],
    )
    assert (dispute.status, dispute.amount, dispute.currency) == ("lost", Decimal("59.98"), "USD")
    row = Transaction.objects.get(payment=payment, transaction_type="chargeback")
    assert (row.gateway_transaction_id, row.amount, row.status) == (
        reversal["id"],
        Decimal("59.98"),
        "succeeded",
    )
    # Not a refund: no refund row, no refund.succeeded event, and the payment stays paid.
    assert not Transaction.objects.filter(payment=payment, transaction_type="refund").exists()
    assert not OutboxEvent.objects.filter(type="refund.succeeded").exists()
    payment.refresh_from_db()
    assert (payment.status, payment.disputed, payment.refunded_amount) == (
        "completed",
        True,
        Decimal("0.00"),
    )
    # The sweep finds the reversal in the order and neither records it again nor as a refund.
    out = StringIO()
    call_command("reconcile_paypal", "--since", "2020-01-01", stdout=out)
    assert "no differences" in out.getvalue()
    assert (
        Transaction.objects.filter(payment=payment).exclude(transaction_type="charge").count() == 1
    )


def test_a_reversal_after_a_refund_to_store_credit_still_reaches_the_ledger(
    api, customer, finance, fake_paypal
):
    payment, _, capture = paid(api, customer, fake_paypal)
    payment_refund(payment_id=payment.pk, actor=finance, reason="goodwill", destination="wallet")
    reversal = reverse(fake_paypal, capture)
    row = Transaction.objects.get(payment=payment, transaction_type="chargeback")
    assert (row.gateway_transaction_id, row.amount) == (reversal["id"], Decimal("59.98"))
    assert Dispute.objects.get().status == "lost"
    assert Transaction.objects.filter(payment=payment, transaction_type="refund").count() == 1


def test_a_dashboard_refund_the_ledger_cannot_take_is_a_warning(
    api, customer, finance, fake_paypal
):
    payment, order_id, capture = paid(api, customer, fake_paypal)
    payment_refund(payment_id=payment.pk, actor=finance, reason="goodwill", destination="wallet")
    refund = fake_paypal.dashboard_refund(capture["id"], "10.00")
    with capture_logs() as logs:
        report = payment_reconcile_paypal(order_id=order_id)
    assert report.unmatched == [refund["id"]]
    [skip] = [log for log in logs if log["event"] == "paypal_reconcile_skip"]
    assert (skip["log_level"], skip["reference"]) == ("warning", refund["id"])


def test_a_dispute_flags_the_payment(api, customer, fake_paypal):
    payment, _, capture = paid(api, customer, fake_paypal)
    dispute = {
        "dispute_id": "PP-D-1",
        "id": "PP-D-1",
        "disputed_transactions": [{"seller_transaction_id": capture["id"]}],
    }
    assert (
        deliver(fake_paypal, fake_paypal.event("CUSTOMER.DISPUTE.CREATED", dispute)).status_code
        == 200
    )
    payment.refresh_from_db()
    assert (payment.status, payment.disputed) == ("completed", True)


def test_a_void_made_in_paypal_cancels_the_payment(api, customer, fake_paypal):
    _, payment = paypal_payment(customer)
    order_id = process(api(customer), payment, capture=False).json()["gateway_transaction_id"]
    fake_paypal.approve(order_id)
    assert process(api(customer), payment).json()["status"] == "authorized"
    [auth] = fake_paypal.authorizations.values()
    auth["status"] = "VOIDED"  # voided in PayPal's dashboard
    event = fake_paypal.event("PAYMENT.AUTHORIZATION.VOIDED", fake_paypal._public(auth))
    assert deliver(fake_paypal, event).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "cancelled"
    void = Transaction.objects.get(payment=payment, transaction_type="void")
    assert void.gateway_transaction_id == f"{auth['id']}:void"


def test_a_failed_event_stays_stored_and_staff_reprocess_it(
    api, customer, finance, support, fake_paypal
):
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id)
    event = order_event(fake_paypal, order_id)
    fake_paypal.fail_gets_with_500 = True  # PayPal fails when the worker reads the order
    assert deliver(fake_paypal, event).status_code == 200  # stored and answered all the same
    stored = PayPalWebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == ("failed", 1)
    fake_paypal.fail_gets_with_500 = False
    with pytest.raises(PermissionDeniedError):
        paypal_events_reprocess(event_ids=[stored.pk], actor=support)
    assert paypal_events_reprocess(event_ids=[stored.pk], actor=finance) == 1
    stored.refresh_from_db()
    assert stored.status == "processed"
    payment.refresh_from_db()
    assert payment.status == "completed"


@pytest.mark.parametrize("instrument", ["declined", "pending"])
def test_an_approval_the_webhook_cannot_capture_is_shown_as_it_is(
    api, customer, fake_paypal, instrument
):
    """The buyer approves and never comes back; the webhook's capture is declined or held."""
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.decline_link_suffix = "&retry=1"
    fake_paypal.approve(order_id, instrument=instrument)
    assert deliver(fake_paypal, order_event(fake_paypal, order_id)).status_code == 200
    body = api(customer).get(f"/api/v1/payments/{payment.pk}").json()
    if instrument == "declined":
        assert (body["status"], body["failure_code"]) == ("requires_action", "card_declined")
        assert body["next_action"]["url"].endswith(f"token={order_id}&retry=1")
    else:
        assert (body["status"], body["next_action"]) == ("processing", None)


def test_a_pending_capture_completes_through_its_webhook(api, customer, fake_paypal):
    order, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id, instrument="pending")
    process(api(customer), payment)
    [capture] = fake_paypal.captures_of(order_id)
    assert capture["status"] == "PENDING"
    pending = fake_paypal.event("PAYMENT.CAPTURE.PENDING", fake_paypal._public(capture))
    assert deliver(fake_paypal, pending).status_code == 200
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("0")
    assert Transaction.objects.get(payment=payment).status == "pending"
    capture["status"] = "COMPLETED"  # PayPal clears it
    completed = fake_paypal.event("PAYMENT.CAPTURE.COMPLETED", fake_paypal._public(capture))
    assert deliver(fake_paypal, completed).status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("completed", Decimal("59.98"))
    assert len(fake_paypal.captures_of(order_id)) == 1
    # The pending event delivered late changes nothing.
    assert deliver(fake_paypal, dict(pending, id="WH-LATE-PENDING")).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "completed"
    order.refresh_from_db()
    assert order.status == "paid"


def test_a_pending_capture_that_paypal_denies_fails_the_payment(api, customer, fake_paypal):
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id, instrument="pending")
    process(api(customer), payment)
    [capture] = fake_paypal.captures_of(order_id)
    capture["status"] = "DECLINED"
    denied = fake_paypal.event("PAYMENT.CAPTURE.DENIED", fake_paypal._public(capture))
    assert deliver(fake_paypal, denied).status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code, payment.captured_amount) == (
        "failed",
        "card_declined",
        Decimal("0"),
    )
