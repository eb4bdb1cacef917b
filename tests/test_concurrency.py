"""Races with real threads and real PostgreSQL connections."""

from collections import Counter
from decimal import Decimal

import pytest

from gamarriando.celery import app as celery_app
from orders.models import Order
from orders.tests.factories import ProductFactory
from payments.models import Payment, SimulatedGatewayOperation
from payments.services import payment_process, payment_refund
from payments.tasks import reconcile_pending
from tests.factories import UserFactory
from tests.helpers import make_order, make_paid, make_payment
from tests.threads import outcome, run_concurrently
from transactions.models import Transaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_concurrent_refunds_of_ten_against_one_hundred(finance, use_broker):
    customer = UserFactory()
    product = ProductFactory(price=Decimal("100.00"), stock=5)
    _, payment = make_paid(customer, product)
    assert payment.captured_amount == Decimal("100.00")
    # Queue the refunds instead of running them inline, so that the race is only about
    # reserving amounts (a refund finishing mid-race would make later ones ALREADY_REFUNDED).
    use_broker("memory://")

    results = run_concurrently(
        50,
        lambda i: payment_refund(
            payment_id=payment.pk, actor=finance, amount=Decimal("10.00"), reason=f"race {i}"
        ),
    )
    counts = Counter(outcome(r) for r in results)
    assert counts == {"ok": 10, "REFUND_EXCEEDS_REFUNDABLE": 40}
    celery_app.conf.task_always_eager = True  # here the janitor's tasks run inline
    reconcile_pending()  # the janitor sends the ten queued refunds
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("100.00")
    assert payment.status == "refunded"
    assert SimulatedGatewayOperation.objects.filter(kind="refund").count() == 10
    assert Transaction.objects.filter(transaction_type="refund", status="succeeded").count() == 10


def test_twenty_concurrent_process_calls_charge_once(customer, product):
    payment = make_payment(customer, make_order(customer, product))
    results = run_concurrently(
        20,
        lambda i: payment_process(
            payment_id=payment.pk, actor=customer, payment_method_id="tok_success"
        ),
    )
    counts = Counter(outcome(r) for r in results)
    assert counts == {"ok": 1, "INVALID_STATUS": 19}
    assert SimulatedGatewayOperation.objects.filter(kind="charge").count() == 1
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("completed", 1)


def test_twenty_concurrent_posts_with_one_key_create_one_payment(api, customer, product):
    order = make_order(customer, product)
    body = {"order_id": order.pk, "payment_method": "simulated", "amount": "50.00"}

    def post(i):
        response = api(customer).post(
            "/api/v1/payments", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key"
        )
        return response.status_code, response.json()

    results = run_concurrently(20, post)
    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {201, 409}
    created = {body["id"] for status, body in results if status == 201}
    assert len(created) == 1
    assert all(
        body["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
        for status, body in results
        if status == 409
    )
    assert Payment.objects.count() == 1


def test_two_customers_racing_for_the_last_unit(api, address):
    product = ProductFactory(stock=1)
    buyers = [UserFactory(), UserFactory()]
    body = {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": address}

    def buy(i):
        response = api(buyers[i]).post("/api/v1/orders", body, format="json")
        return response.status_code, response.json()

    results = run_concurrently(2, buy)
    assert sorted(status for status, _ in results) == [201, 409]
    loser = next(body for status, body in results if status == 409)
    assert loser["error"]["code"] == "OUT_OF_STOCK"
    assert loser["error"]["details"] == {"product_id": product.pk, "available": 0}
    product.refresh_from_db()
    assert product.stock == 0
    assert Order.objects.count() == 1


def test_cancel_racing_a_refund_never_refunds_twice(finance):
    customer = UserFactory()
    product = ProductFactory(price=Decimal("40.00"), stock=5)
    order, payment = make_paid(customer, product)
    from orders.services import order_cancel

    def work(i):
        if i % 2:
            return order_cancel(order_id=order.pk, actor=customer)
        return payment_refund(
            payment_id=payment.pk, actor=finance, amount=Decimal("40.00"), reason="race"
        )

    run_concurrently(6, work)
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("40.00")
    assert SimulatedGatewayOperation.objects.filter(kind="refund").count() == 1


def test_a_failed_payment_and_its_replacement_processed_together_charge_the_order_once(
    customer, product
):
    # A failed payment is not live, so the customer may open a second one for the whole
    # balance; the first may still be retried. Both together must not take the money twice.
    order = make_order(customer, product)
    first = make_payment(customer, order)
    payment_process(payment_id=first.pk, actor=customer, payment_method_id="tok_declined")
    second = make_payment(customer, order)
    results = run_concurrently(
        2,
        lambda i: payment_process(
            payment_id=(first, second)[i].pk, actor=customer, payment_method_id="tok_success"
        ),
    )
    # The loser is refused either way, by the moment it takes the order's lock: while the
    # winner's charge is in flight its balance is promised (AMOUNT_MISMATCH); once the charge
    # ran (inline here, in the winner's thread) the order is paid (INVALID_STATUS).
    refused, won = sorted(outcome(r) for r in results)
    assert won == "ok" and refused in ("AMOUNT_MISMATCH", "INVALID_STATUS"), results
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == ("paid", order.total_amount)
    charged = Transaction.objects.filter(transaction_type="charge", status="succeeded")
    assert charged.count() == 1
