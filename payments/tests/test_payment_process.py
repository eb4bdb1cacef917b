"""POST /payments/{id}/process: the charge, its declines, retries and gateway answers."""

import pytest

from payments.tests.helpers import charges, process
from tests.helpers import make_order, make_paid, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("token", "status", "failure_code"),
    [
        ("tok_declined", "failed", "card_declined"),
        ("tok_insufficient_funds", "failed", "insufficient_funds"),
    ],
)
def test_declines_end_failed_with_a_code(api, customer, product, token, status, failure_code):
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    body = process(api(customer), payment.pk, token).json()
    assert (body["status"], body["failure_code"]) == (status, failure_code)
    assert body["failure_message"]
    assert Transaction.objects.get().status == "failed"
    order.refresh_from_db()
    assert order.status == "pending"


def test_a_failed_payment_can_be_retried_as_a_new_attempt(api, customer, product):
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    client = api(customer)
    process(client, payment.pk, "tok_declined")
    body = process(client, payment.pk, "tok_success").json()
    assert body["status"] == "completed"
    assert body["failure_code"] == ""
    payment.refresh_from_db()
    assert payment.attempts == 2
    keys = sorted(Transaction.objects.values_list("idempotency_key", flat=True))
    assert keys == [f"payment-{payment.pk}-attempt-1", f"payment-{payment.pk}-attempt-2"]


def test_requires_action_returns_next_action(api, customer, product):
    payment = make_payment(customer, make_order(customer, product))
    body = process(api(customer), payment.pk, "tok_requires_action").json()
    assert body["status"] == "requires_action"
    assert body["next_action"]["type"] == "redirect_to_url"
    # The buyer's address where the contract promises it for every redirect (PayPal's too).
    assert body["next_action"]["url"].startswith("https://simulated.invalid/3ds/")
    assert body["next_action"]["redirect_to_url"]["url"] == body["next_action"]["url"]
    assert Transaction.objects.get().status == "pending"


def test_gateway_error_is_retried_then_fails_with_gateway_error(api, customer, product):
    payment = make_payment(customer, make_order(customer, product))
    body = process(api(customer), payment.pk, "tok_gateway_error").json()
    assert (body["status"], body["failure_code"]) == ("failed", "gateway_error")
    assert charges() == 0


def test_unknown_token_is_payment_method_error_and_changes_nothing(api, customer, product):
    payment = make_payment(customer, make_order(customer, product))
    response = process(api(customer), payment.pk, "4111-not-a-token")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PAYMENT_METHOD_ERROR"
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("pending", 0)


def test_process_from_completed_is_invalid_status(api, customer, product):
    _, payment = make_paid(customer, product)
    response = process(api(customer), payment.pk)
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": "completed"}
    assert charges() == 1


def test_process_is_owner_only(api, customer, other_customer, finance, product):
    payment = make_payment(customer, make_order(customer, product))
    assert process(api(other_customer), payment.pk).status_code == 404
    assert process(api(finance), payment.pk).status_code == 403
    assert charges() == 0


def test_simulated_decline_rate_and_latency_are_configurable(api, customer, product, settings):
    import time

    settings.SIMULATED_GATEWAY_DECLINE_RATE = 1.0
    settings.SIMULATED_GATEWAY_LATENCY_MS = 150
    payment = make_payment(customer, make_order(customer, product))
    started = time.perf_counter()
    body = process(api(customer), payment.pk).json()
    assert time.perf_counter() - started >= 0.15
    assert (body["status"], body["failure_code"]) == ("failed", "card_declined")


def test_a_failed_payment_is_refused_once_another_payment_holds_the_balance(api, customer, product):
    order = make_order(customer, product)
    failed = make_payment(customer, order)
    client = api(customer)
    process(client, failed.pk, "tok_declined")
    other = make_payment(customer, order)
    # The other payment only authorizes: it is live and promises the whole balance.
    assert process(client, other.pk, "tok_success", capture=False).json()["status"] == "authorized"
    response = process(client, failed.pk, "tok_success")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "AMOUNT_MISMATCH"
    assert body["details"] == {"balance_due": "0.00"}
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert charges() == 2  # the decline and the other payment's authorization, nothing more
