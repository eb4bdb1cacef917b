"""The storefront's PayPal flow: our real client over HTTP against the fake PayPal."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from gamarriando.celery import app as celery_app
from orders.tests.factories import ProductFactory
from payments.models import Payment
from payments.paypal import client
from payments.services import payment_execute_transaction
from payments.tasks import reconcile_pending
from tests.helpers import make_order, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def paypal_payment(customer, price="59.98", currency="USD"):
    product = ProductFactory(price=Decimal(price), currency=currency, stock=10)
    order = make_order(customer, product, currency=currency)
    return order, make_payment(customer, order, method="paypal")


def process(client_, payment, **body):
    return client_.post(f"/api/v1/payments/{payment.pk}/process", body, format="json")


def start(api, customer, fake, **kwargs):
    """Place an order, pay it with PayPal: the answer sends the buyer to approve."""
    order, payment = paypal_payment(customer, **kwargs)
    body = process(api(customer), payment).json()
    assert body["status"] == "requires_action", body
    order_id = body["gateway_transaction_id"]
    assert body["next_action"] == {
        "type": "redirect_to_url",
        "url": f"{fake.base}/checkoutnow?token={order_id}",
    }
    return order, payment, order_id


def test_approval_flow_captures_once(api, customer, fake_paypal):
    order, payment, order_id = start(api, customer, fake_paypal)
    created = fake_paypal.orders[order_id]
    unit = created["purchase_units"][0]
    assert unit["amount"] == {"currency_code": "USD", "value": "59.98"}
    assert unit["custom_id"] == str(payment.pk)
    assert created["intent"] == "CAPTURE"
    assert created["_experience"]["experience_context"]["return_url"].startswith("https://shop")
    # Before approval a second process changes nothing and captures nothing.
    assert process(api(customer), payment).json()["status"] == "requires_action"
    assert fake_paypal.captures_of(order_id) == []
    fake_paypal.approve(order_id)
    body = process(api(customer), payment).json()
    assert body["status"] == "completed", body
    [capture] = fake_paypal.captures_of(order_id)
    assert body["gateway_transaction_id"] == capture["id"]
    charge = Transaction.objects.get(payment=payment)
    assert (charge.transaction_type, charge.status) == ("charge", "succeeded")
    assert charge.gateway_transaction_id == capture["id"]
    order.refresh_from_db()
    assert order.status == "paid"
    # Every write carried our key: the create the attempt's, the capture one derived from it.
    writes = [r for r in fake_paypal.requests if r[0] == "POST" and r[1].startswith("/v2/")]
    assert [w[2] for w in writes][0] == f"payment-{payment.pk}-attempt-1"
    assert [w[2] for w in writes][1].startswith(f"payment-{payment.pk}-attempt-1-capture-")
    assert len(writes) == 2


def test_zero_decimal_currency_has_no_decimals(api, customer, fake_paypal):
    _, _, order_id = start(api, customer, fake_paypal, price="1500", currency="JPY")
    amount = fake_paypal.orders[order_id]["purchase_units"][0]["amount"]
    assert amount == {"currency_code": "JPY", "value": "1500"}


def test_paypal_is_offered_only_when_configured(api, customer, settings, fake_paypal):
    names = [m["name"] for m in api(customer).get("/api/v1/payment-methods").json()]
    assert names == ["simulated", "stripe", "paypal", "wallet"]
    settings.PAYPAL_CLIENT_SECRET = ""
    names = [m["name"] for m in api(customer).get("/api/v1/payment-methods").json()]
    assert "paypal" not in names


def test_instrument_declined_sends_the_buyer_back_then_pays(api, customer, fake_paypal):
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id, instrument="declined")
    body = process(api(customer), payment).json()
    assert body["status"] == "requires_action"
    assert body["next_action"]["url"].endswith(f"token={order_id}")
    assert fake_paypal.captures_of(order_id) == []
    fake_paypal.approve(order_id)
    assert process(api(customer), payment).json()["status"] == "completed"
    assert len(fake_paypal.captures_of(order_id)) == 1


def test_a_resumed_attempt_declined_again_gets_the_fresh_link(api, customer, fake_paypal):
    _, payment, order_id = start(api, customer, fake_paypal)
    for attempt in ("1", "2"):  # payment is already requires_action: the link still changes
        fake_paypal.decline_link_suffix = f"&retry={attempt}"
        fake_paypal.approve(order_id, instrument="declined")
        body = process(api(customer), payment).json()
        assert body["status"] == "requires_action"
        assert body["next_action"]["url"].endswith(f"token={order_id}&retry={attempt}")
        assert body["failure_code"] == "card_declined"
        assert body["gateway_transaction_id"] == order_id
    fake_paypal.approve(order_id)
    body = process(api(customer), payment).json()
    assert (body["status"], body["next_action"], body["failure_code"]) == ("completed", None, "")


@pytest.mark.parametrize("instrument", ["ok", "declined"])
def test_the_return_answers_processing_until_a_worker_has_read_the_order(
    api, customer, fake_paypal, use_broker, instrument
):
    """With a worker, the return's answer must not read as a decline (requires_action)."""
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id, instrument=instrument)
    use_broker("memory://")  # queued for a worker, not run here
    body = process(api(customer), payment).json()
    assert (body["status"], body["next_action"], body["failure_code"]) == ("processing", None, "")
    assert fake_paypal.captures_of(order_id) == []
    payment_execute_transaction(transaction_id=Transaction.objects.get(payment=payment).pk)
    body = api(customer).get(f"/api/v1/payments/{payment.pk}").json()
    if instrument == "ok":
        assert (body["status"], body["next_action"]) == ("completed", None)
        assert len(fake_paypal.captures_of(order_id)) == 1
    else:  # now it is PayPal's decline: back to the buyer, with the code
        assert (body["status"], body["failure_code"]) == ("requires_action", "card_declined")
        assert body["next_action"]["url"].startswith(f"{fake_paypal.base}/checkoutnow")
        assert fake_paypal.captures_of(order_id) == []


def test_a_lost_resume_of_an_old_attempt_is_the_janitors_soon(
    api, customer, fake_paypal, use_broker
):
    """The return's task is lost; the attempt is old (its turn a day off) and has no order id
    on its row (made before it was kept there): the janitor still captures it, once, soon."""
    _, payment, order_id = start(api, customer, fake_paypal)
    attempt = Transaction.objects.get(payment=payment)
    Transaction.objects.filter(pk=attempt.pk).update(
        gateway_transaction_id="",
        reconcile_attempts=3,
        next_reconcile_at=timezone.now() + timedelta(days=1),
    )
    fake_paypal.approve(order_id)
    use_broker("redis://127.0.0.1:1/0")  # nothing listens: the capture's task is lost
    assert process(api(customer), payment).json()["status"] == "processing"
    celery_app.conf.task_always_eager = True  # the broker is back (its tasks run inline here)
    assert reconcile_pending() == 1
    payment.refresh_from_db()
    assert payment.status == "completed"
    assert len(fake_paypal.captures_of(order_id)) == 1


def test_a_capture_paypal_holds_as_pending_is_processing_without_the_link(
    api, customer, fake_paypal
):
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id, instrument="pending")
    body = process(api(customer), payment).json()
    assert (body["status"], body["next_action"]) == ("processing", None)
    [capture] = fake_paypal.captures_of(order_id)
    assert capture["status"] == "PENDING"
    # A reloaded return page is told the payment is under way, and captures nothing more.
    again = process(api(customer), payment)
    assert again.status_code == 409
    assert again.json()["error"]["details"]["status"] == "processing"
    assert len(fake_paypal.captures_of(order_id)) == 1


def test_a_capture_paypal_refuses_fails_the_attempt_instead_of_retrying_it(
    api, customer, fake_paypal
):
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id, instrument="refused")
    body = process(api(customer), payment).json()
    assert (body["status"], body["failure_code"]) == ("failed", "card_declined")
    assert Transaction.objects.get(payment=payment).status == "failed"
    sent = fake_paypal.count("POST", "/capture")
    reconcile_pending()  # the janitor has nothing left to send
    assert fake_paypal.count("POST", "/capture") == sent


def test_denied_capture_fails_the_payment(api, customer, fake_paypal):
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id, instrument="denied")
    body = process(api(customer), payment).json()
    assert (body["status"], body["failure_code"]) == ("failed", "card_declined")


def test_expired_approval_fails_the_payment_with_nothing_captured(api, customer, fake_paypal):
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.expire(order_id)
    assert reconcile_pending() == 1
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "canceled")
    assert fake_paypal.captures == {}
    # The customer may start again: a new attempt, a new PayPal order.
    assert process(api(customer), payment).json()["status"] == "requires_action"


def test_a_buyer_who_cancels_pays_nothing(api, customer, fake_paypal):
    _, payment, order_id = start(api, customer, fake_paypal)
    # Back from the cancel URL without approving: the storefront may call process again.
    assert process(api(customer), payment).json()["status"] == "requires_action"
    reconcile_pending()
    payment.refresh_from_db()
    assert payment.status == "requires_action"
    assert fake_paypal.captures == {}


def test_authorize_then_partial_capture_then_partial_refunds(api, customer, finance, fake_paypal):
    order, payment = paypal_payment(customer, price="100.00")
    body = process(api(customer), payment, capture=False).json()
    order_id = body["gateway_transaction_id"]
    assert fake_paypal.orders[order_id]["intent"] == "AUTHORIZE"
    fake_paypal.approve(order_id)
    body = process(api(customer), payment).json()
    assert body["status"] == "authorized", body
    [auth] = fake_paypal.authorizations.values()
    assert body["gateway_transaction_id"] == auth["id"]
    staff = api(finance)
    captured = staff.post(
        f"/api/v1/payments/{payment.pk}/capture", {"amount": "70.00"}, format="json"
    ).json()
    assert (captured["status"], captured["captured_amount"]) == ("completed", "70.00")
    [capture] = fake_paypal.captures.values()
    assert capture["amount"]["value"] == "70.00"
    for amount in ("20.00", "50.00"):
        answer = staff.post(
            f"/api/v1/payments/{payment.pk}/refund",
            {"amount": amount, "reason": "partial"},
            format="json",
        )
        assert answer.status_code == 202, answer.json()
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("70.00"))
    refunds = list(fake_paypal.refunds.values())
    assert sorted(r["amount"]["value"] for r in refunds) == ["20.00", "50.00"]
    assert {r["capture_id"] for r in refunds} == {capture["id"]}
    rows = Transaction.objects.filter(payment=payment, transaction_type="refund")
    assert {r.gateway_transaction_id for r in rows} == {r["id"] for r in refunds}


def test_void_of_an_authorization(api, customer, fake_paypal):
    _, payment = paypal_payment(customer)
    order_id = process(api(customer), payment, capture=False).json()["gateway_transaction_id"]
    fake_paypal.approve(order_id)
    assert process(api(customer), payment).json()["status"] == "authorized"
    assert api(customer).delete(f"/api/v1/payments/{payment.pk}").status_code == 200
    payment.refresh_from_db()
    assert payment.status == "cancelled"
    [auth] = fake_paypal.authorizations.values()
    assert auth["status"] == "VOIDED"
    assert fake_paypal.captures == {}


def test_timeout_after_capture_is_resolved_by_reconciliation(api, customer, fake_paypal):
    _, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id)
    attempt = Transaction.objects.get(payment=payment)
    fake_paypal.drop_next_post = 1  # PayPal captures, the answer is lost
    with pytest.raises(Exception, match="answer lost"):
        payment_execute_transaction(transaction_id=attempt.pk)
    payment.refresh_from_db()
    assert payment.status == "requires_action"
    assert len(fake_paypal.captures_of(order_id)) == 1
    reconcile_pending()
    payment.refresh_from_db()
    assert payment.status == "completed"
    assert len(fake_paypal.captures_of(order_id)) == 1


def test_5xx_is_retried_with_the_same_request_id(api, customer, fake_paypal):
    _, payment = paypal_payment(customer)
    fake_paypal.fail_next_with_500 = 2
    body = process(api(customer), payment).json()
    assert body["status"] == "requires_action"
    creates = [r for r in fake_paypal.requests if r[:2] == ("POST", "/v2/checkout/orders")]
    assert len(creates) == 3
    assert {r[2] for r in creates} == {f"payment-{payment.pk}-attempt-1"}
    assert len(fake_paypal.orders) == 1


def test_timeout_of_the_create_replays_the_same_order(api, customer, fake_paypal, settings):
    _, payment = paypal_payment(customer)
    fake_paypal.drop_next_post = 1
    body = process(api(customer), payment).json()
    assert body["status"] == "requires_action"
    assert len(fake_paypal.orders) == 1  # the retry got PayPal's first answer


def test_token_is_cached_and_refreshed_on_401(api, customer, fake_paypal):
    client.forget_token()
    _, payment, order_id = start(api, customer, fake_paypal)
    assert fake_paypal.token_requests == 1
    fake_paypal.revoke_tokens()
    fake_paypal.approve(order_id)
    assert process(api(customer), payment).json()["status"] == "completed"
    assert fake_paypal.token_requests == 2


@pytest.mark.postgres
def test_twenty_processes_and_the_webhook_capture_once(api, customer, fake_paypal):
    from payments.paypal.events import paypal_event_process
    from payments.paypal.webhook import paypal_event_store

    order, payment, order_id = start(api, customer, fake_paypal)
    fake_paypal.approve(order_id)
    event = fake_paypal.event(
        "CHECKOUT.ORDER.APPROVED", fake_paypal._order_view(fake_paypal.orders[order_id])
    )
    barrier = threading.Barrier(21)
    statuses, errors = [], []

    def storefront():
        try:
            barrier.wait()
            statuses.append(process(api(customer), payment).status_code)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def webhook():
        try:
            barrier.wait()
            paypal_event_store(event=event)
            paypal_event_process(event_id=event["id"])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=storefront) for _ in range(20)]
    threads.append(threading.Thread(target=webhook))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(statuses) <= {202, 409}
    assert len(fake_paypal.captures_of(order_id)) == 1
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("completed", Decimal("59.98"))
    assert Transaction.objects.filter(payment=payment).count() == 1
    order.refresh_from_db()
    assert order.status == "paid"
    assert Payment.objects.get(pk=payment.pk).attempts == 1


def test_an_unreachable_paypal_fails_the_attempt_with_gateway_error(
    api, customer, fake_paypal, settings
):
    _, payment = paypal_payment(customer)
    settings.PAYPAL_API_BASE = "http://127.0.0.1:9"  # nothing listens: refused at once
    client.forget_token()
    body = process(api(customer), payment).json()
    assert (body["status"], body["failure_code"]) == ("failed", "gateway_error")
    assert fake_paypal.orders == {}


def test_a_currency_paypal_does_not_take_is_refused(api, customer, fake_paypal):
    order = make_order(customer, ProductFactory(price=Decimal("10.00")), currency="PEN")
    response = api(customer).post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "paypal", "amount": "10.00"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PAYMENT_METHOD_ERROR"
    methods = {m["name"]: m for m in api(customer).get("/api/v1/payment-methods").json()}
    assert "PEN" not in methods["paypal"]["currencies"]
    assert "USD" in methods["paypal"]["currencies"]
