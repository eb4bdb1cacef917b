"""Business limits (issue 18 item 8): 429 LIMIT_EXCEEDED naming the limit, Retry-After when it resets."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from gamarriando.errors import LimitExceeded
from orders.models import Order
from orders.tests.factories import ProductFactory
from payments.limits import _failed, _failed_attempts
from tests.factories import UserFactory
from tests.helpers import make_order, make_payment, post_process
from tests.threads import run_concurrently
from transactions.models import TransactionStatus, TransactionType
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _order_body(address, *lines):
    return {
        "items": [{"product_id": pid, "quantity": qty} for pid, qty in lines],
        "shipping_address": address,
    }


def _limit(response) -> str:
    assert response.status_code == 429, response.json()
    error = response.json()["error"]
    assert error["code"] == "LIMIT_EXCEEDED"
    return error["details"]["limit"]


def test_process_attempts_per_payment_are_capped(api, customer, product, settings):
    settings.PAYMENT_MAX_PROCESS_ATTEMPTS = 2
    payment = make_payment(customer, make_order(customer, product))
    client = api(customer)
    assert post_process(client, payment.pk, "tok_declined").json()["status"] == "failed"
    assert post_process(client, payment.pk, "tok_declined").json()["status"] == "failed"
    third = post_process(client, payment.pk, "tok_success")
    assert _limit(third) == "process_attempts"
    assert third.json()["error"]["details"]["max"] == 2
    assert "Retry-After" not in third  # it never resets: a new payment is needed
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("failed", 2)


def test_failed_attempts_per_user_per_hour_stop_card_testing(api, customer, settings):
    settings.PAYMENT_MAX_FAILED_ATTEMPTS_PER_HOUR = 2
    client = api(customer)
    for _ in range(2):
        payment = make_payment(customer, make_order(customer, ProductFactory()))
        assert post_process(client, payment.pk, "tok_insufficient_funds").status_code == 202
    fresh = make_payment(customer, make_order(customer, ProductFactory()))
    limited = post_process(client, fresh.pk, "tok_success")
    assert _limit(limited) == "failed_attempts"
    assert 3500 <= int(limited["Retry-After"]) <= 3600
    fresh.refresh_from_db()
    assert (fresh.status, fresh.attempts) == ("pending", 0)
    other = UserFactory()
    theirs = make_payment(other, make_order(other, ProductFactory()))
    assert post_process(api(other), theirs.pk, "tok_success").json()["status"] == "completed"


def test_a_line_is_capped_after_merging(api, customer, address, settings):
    settings.ORDER_MAX_LINE_QUANTITY = 5
    product = ProductFactory(stock=100)
    client = api(customer)
    response = client.post(
        "/api/v1/orders", _order_body(address, (product.pk, 3), (product.pk, 3)), format="json"
    )
    assert _limit(response) == "line_quantity"
    assert response.json()["error"]["details"]["product_id"] == product.pk
    assert "Retry-After" not in response
    product.refresh_from_db()
    assert product.stock == 100
    ok = client.post("/api/v1/orders", _order_body(address, (product.pk, 5)), format="json")
    assert ok.status_code == 201


def test_pending_orders_per_user_are_capped_until_one_is_settled(api, customer, address, settings):
    settings.ORDER_MAX_PENDING_PER_USER = 2
    product = ProductFactory(stock=100)
    client = api(customer)
    body = _order_body(address, (product.pk, 1))
    first, second = (client.post("/api/v1/orders", body, format="json") for _ in range(2))
    assert (first.status_code, second.status_code) == (201, 201)
    limited = client.post("/api/v1/orders", body, format="json")
    assert _limit(limited) == "pending_orders"
    ttl = settings.ORDER_PAYMENT_TTL_MINUTES * 60
    assert 1 <= int(limited["Retry-After"]) <= ttl  # when the oldest pending order expires
    assert api(UserFactory()).post("/api/v1/orders", body, format="json").status_code == 201
    assert client.delete(f"/api/v1/orders/{first.json()['id']}").status_code == 200
    assert client.post("/api/v1/orders", body, format="json").status_code == 201


@pytest.mark.postgres
def test_simultaneous_orders_never_exceed_the_pending_cap(customer, address, settings):
    from orders.services import order_create

    settings.ORDER_MAX_PENDING_PER_USER = 3
    product = ProductFactory(stock=100, price=Decimal("5.00"))

    def buy(_):
        order_create(
            user=customer,
            items=[{"product_id": product.pk, "quantity": 1}],
            shipping_address=address,
        )
        return "created"

    outcomes = [
        "limited" if isinstance(result, LimitExceeded) else result
        for result in run_concurrently(8, buy)
    ]
    assert sorted(outcomes) == ["created"] * 3 + ["limited"] * 5
    assert Order.objects.filter(user=customer, status="pending").count() == 3
    product.refresh_from_db()
    assert product.stock == 97


def test_the_hand_written_failed_attempts_count_equals_the_orm_count(customer, product):
    now = timezone.now()
    mine = make_payment(customer, make_order(customer, product))
    other = UserFactory()
    theirs = make_payment(other, make_order(other, product))
    for payment, kind, status, minutes in [
        (mine, TransactionType.CHARGE, TransactionStatus.FAILED, 5),
        (mine, TransactionType.AUTHORIZATION, TransactionStatus.FAILED, 50),
        (mine, TransactionType.CHARGE, TransactionStatus.FAILED, 60),  # at the hour's start
        (mine, TransactionType.CHARGE, TransactionStatus.FAILED, 90),  # outside the hour
        (mine, TransactionType.CHARGE, TransactionStatus.SUCCEEDED, 5),
        (mine, TransactionType.REFUND, TransactionStatus.FAILED, 5),
        (theirs, TransactionType.CHARGE, TransactionStatus.FAILED, 5),
    ]:
        TransactionFactory(
            payment=payment,
            transaction_type=kind,
            status=status,
            processed_at=now - timedelta(minutes=minutes),
        )
    since = now - timedelta(hours=1)
    assert _failed_attempts(customer.pk, since) == _failed(customer.pk, since).count() == 3
    assert _failed_attempts(UserFactory().pk, since) == 0
    # Store credit short (or its hold expired) is no card refused: neither count takes it.
    credit = make_payment(customer, make_order(customer, product), method="wallet")
    TransactionFactory(
        payment=credit,
        transaction_type=TransactionType.CHARGE,
        status=TransactionStatus.FAILED,
        failure_reason="insufficient_funds",
        processed_at=now - timedelta(minutes=5),
    )
    assert _failed_attempts(customer.pk, since) == _failed(customer.pk, since).count() == 3


def test_store_credit_shortfalls_never_lock_out_card_payments(api, customer, settings):
    settings.PAYMENT_MAX_FAILED_ATTEMPTS_PER_HOUR = 2
    client = api(customer)
    for _ in range(3):  # no credit at all: each attempt fails with insufficient_funds
        credit = make_payment(customer, make_order(customer, ProductFactory()), method="wallet")
        answer = client.post(f"/api/v1/payments/{credit.pk}/process", {}, format="json")
        assert answer.json()["failure_code"] == "insufficient_funds", answer.json()
    card = make_payment(customer, make_order(customer, ProductFactory()))
    assert post_process(client, card.pk, "tok_success").json()["status"] == "completed"
