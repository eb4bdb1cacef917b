"""An attempt waiting for 3-D Secure is called off when its payment or order is cancelled."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from gamarriando.celery import app as celery_app
from orders.models import Order
from orders.services import order_expire_unpaid
from orders.tests.factories import ProductFactory
from payments.gateways.base import GatewayResult, GatewayStatus
from payments.models import Payment, SimulatedGatewayOperation
from payments.services import (
    payment_apply_gateway_result,
    payment_execute_transaction,
)
from payments.services.gateway_results import CALLED_OFF_MESSAGE
from payments.services.ledger_core import CALLED_OFF
from payments.services.settlement import payments_settle_cancelled_order
from payments.tasks import reconcile_pending
from tests.helpers import make_order, make_payment, post_process
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def waiting(api, customer, product, method="simulated", token="tok_requires_action"):
    """An order whose payment waits for the buyer's 3-D Secure."""
    order = make_order(customer, product)
    payment = make_payment(customer, order, method=method)
    body = post_process(api(customer), payment.pk, token).json()
    assert body["status"] == "requires_action", body
    return order, Payment.objects.get(pk=payment.pk)


def assert_called_off(payment, why=""):
    payment.refresh_from_db()
    attempt = Transaction.objects.get(payment=payment)
    assert (payment.status, payment.failure_code) == ("cancelled", "canceled")
    assert (attempt.status, attempt.failure_reason) == ("failed", "canceled")
    assert (payment.captured_amount, payment.authorized_amount) == (0, 0)
    assert payment.failure_message == CALLED_OFF_MESSAGE
    last = payment.status_history.order_by("-pk").first()
    assert (last.to_status, last.reason) == ("cancelled", attempt.reason)
    assert attempt.reason.startswith(f"{CALLED_OFF}: {why}"), attempt.reason


def test_cancelling_the_order_calls_off_the_attempt_at_the_gateway(api, customer, product):
    order, payment = waiting(api, customer, product)
    response = api(customer).delete(f"/api/v1/orders/{order.pk}")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert_called_off(payment, f"order {order.order_number} cancelled")
    op = SimulatedGatewayOperation.objects.get(reference=payment.gateway_transaction_id)
    assert (op.status, op.failure_code) == ("failed", "canceled")  # the buyer can't finish it
    assert response.json()["payments"][0]["status"] in ("requires_action", "cancelled")
    assert api(customer).get(f"/api/v1/orders/{order.pk}").json()["payments"][0]["status"] == (
        "cancelled"
    )


def test_an_expired_order_calls_off_its_waiting_attempt(api, customer, product):
    order, payment = waiting(api, customer, product)
    assert order_expire_unpaid(now=timezone.now() + timedelta(hours=1)) == 1
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert_called_off(payment)


def test_the_buyer_gives_up_on_3ds_and_pays_with_another_card(api, customer, product):
    order, payment = waiting(api, customer, product)
    client = api(customer)
    # While it waits, the payment holds the order's balance: no second payment fits.
    second = client.post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": str(order.total_amount)},
        format="json",
    )
    assert second.status_code == 400, second.json()
    cancelled = client.delete(f"/api/v1/payments/{payment.pk}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert_called_off(payment, f"payment cancelled by {customer.email}")
    again = client.post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": str(order.total_amount)},
        format="json",
    )
    assert again.status_code == 201, again.json()
    assert post_process(client, again.json()["id"], "tok_success").json()["status"] == "completed"
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_called_off_attempts_are_not_declines_for_the_card_testing_limit(api, customer, settings):
    settings.PAYMENT_MAX_FAILED_ATTEMPTS_PER_HOUR = 2
    product = ProductFactory(price=Decimal("10.00"), stock=50)
    client = api(customer)
    for _ in range(3):  # the shopper backs out of 3-D Secure three times
        _, payment = waiting(api, customer, product)
        assert client.delete(f"/api/v1/payments/{payment.pk}").json()["status"] == "cancelled"
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    assert post_process(client, payment.pk, "tok_success").json()["status"] == "completed"
    for _ in range(2):  # real declines still count
        declined = make_payment(customer, make_order(customer, product))
        assert post_process(client, declined.pk, "tok_declined").json()["status"] == "failed"
    refused = post_process(
        client, make_payment(customer, make_order(customer, product)).pk, "tok_success"
    )
    assert refused.status_code == 429, refused.json()


@pytest.mark.parametrize("cancel", ["order", "payment"])
def test_a_lost_call_off_is_made_by_the_janitor(api, customer, product, use_broker, cancel):
    order, payment = waiting(api, customer, product)
    use_broker("redis://127.0.0.1:1/0")  # nothing listens: the call-off message is lost
    path = f"/api/v1/orders/{order.pk}" if cancel == "order" else f"/api/v1/payments/{payment.pk}"
    assert api(customer).delete(path).status_code == 200
    if cancel == "order":  # the order.cancelled event's dispatch was lost too: the sweep's
        payments_settle_cancelled_order(order_id=order.pk)
    payment.refresh_from_db()
    assert payment.status == "requires_action"
    Transaction.objects.filter(payment=payment).update(
        next_reconcile_at=timezone.now() - timedelta(seconds=1)
    )
    celery_app.conf.task_always_eager = True  # the broker is back (here: its task runs inline)
    assert reconcile_pending() == 1  # the janitor's turn for the attempt
    assert_called_off(payment)


def test_a_marked_attempt_ends_cancelled_whichever_path_reports_its_end(
    api, customer, product, use_broker
):
    """The gateway's own report (a webhook, the janitor's read) of a called-off attempt."""
    _, payment = waiting(api, customer, product)
    use_broker("redis://127.0.0.1:1/0")  # the call-off itself never runs here
    assert api(customer).delete(f"/api/v1/payments/{payment.pk}").status_code == 200
    attempt = Transaction.objects.get(payment=payment)
    payment_apply_gateway_result(
        transaction_id=attempt.pk,
        result=GatewayResult(
            status=GatewayStatus.FAILED,
            reference=payment.gateway_transaction_id,
            failure_code="authentication_required",
        ),
    )
    assert_called_off(payment, f"payment cancelled by {customer.email}")


def test_an_order_cancelled_while_its_charge_was_on_the_way(api, customer, product, use_broker):
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    app = use_broker("redis://127.0.0.1:1/0")  # the charge waits, unsent
    assert post_process(api(customer), payment.pk, "tok_requires_action").status_code == 202
    assert api(customer).delete(f"/api/v1/orders/{order.pk}").status_code == 200
    payments_settle_cancelled_order(order_id=order.pk)  # processing: nothing to give back yet
    app.conf.task_always_eager = True  # the worker now runs the charge, and what it queues
    payment_execute_transaction(transaction_id=Transaction.objects.get(payment=payment).pk)
    assert_called_off(payment, f"order {order.order_number} cancelled")


def test_stripe_cancels_the_payment_intent_with_its_own_key(api, customer, fake_stripe):
    product = ProductFactory(price=Decimal("40.00"), stock=5)
    order, payment = waiting(
        api, customer, product, method="stripe", token="pm_card_threeDSecure2Required"
    )
    attempt = Transaction.objects.get(payment=payment)
    assert api(customer).delete(f"/api/v1/orders/{order.pk}").status_code == 200
    pi = fake_stripe.payment_intents[payment.gateway_transaction_id]
    assert pi["status"] == "canceled"
    assert ("POST", f"/v1/payment_intents/{pi['id']}/cancel") in fake_stripe.requests
    assert f"{attempt.idempotency_key}-abandon" in fake_stripe.idempotent
    assert_called_off(payment)


def test_a_buyer_who_finished_3ds_first_is_charged_then_refunded(api, customer, fake_stripe):
    product = ProductFactory(price=Decimal("40.00"), stock=5)
    order, payment = waiting(
        api, customer, product, method="stripe", token="pm_card_threeDSecure2Required"
    )
    pi = fake_stripe.payment_intents[payment.gateway_transaction_id]
    # The buyer authenticates at Stripe just before the order is cancelled.
    pi["status"], pi["amount_received"] = "succeeded", pi["amount"]
    fake_stripe._charge(pi)
    assert api(customer).delete(f"/api/v1/orders/{order.pk}").status_code == 200
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert payment.captured_amount == payment.refunded_amount == Decimal("40.00")
    assert fake_stripe.refunded_total(pi["id"]) == 4000
