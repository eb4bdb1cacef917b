"""The Idempotency-Key layer: replay, reuse, in-flight, errors not stored, expiry."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from gamarriando import idempotency
from gamarriando.idempotency import IdempotencyKey
from orders.models import Order
from payments.models import SimulatedGatewayOperation
from tests.helpers import make_order, make_payment

pytestmark = pytest.mark.django_db(transaction=True)


def post_order(client, product, address, key, quantity=1, path="/api/v1/orders"):
    body = {
        "items": [{"product_id": product.pk, "quantity": quantity}],
        "shipping_address": address,
    }
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_replay_returns_the_stored_answer_and_creates_nothing(api, customer, product, address):
    client = api(customer)
    first = post_order(client, product, address, "order-1")
    second = post_order(client, product, address, "order-1", path="/api/v1/orders/")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    # Byte for byte, keys in their order: the stored answer is not reordered (jsonb would).
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Order.objects.count() == 1
    product.refresh_from_db()
    assert product.stock == 9


def test_same_key_different_body_is_422(api, customer, product, address):
    client = api(customer)
    post_order(client, product, address, "order-2")
    response = post_order(client, product, address, "order-2", quantity=2)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert Order.objects.count() == 1


def test_same_key_other_path_is_422(api, customer, product, address):
    client = api(customer)
    order = make_order(customer, product)
    post_order(client, product, address, "shared")
    response = client.post(
        "/api/v1/payments",
        {"order_id": order.pk, "payment_method": "simulated", "amount": "1"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="shared",
    )
    assert response.status_code == 422


def test_keys_are_per_user(api, customer, other_customer, product, address):
    post_order(api(customer), product, address, "k")
    response = post_order(api(other_customer), product, address, "k")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Order.objects.count() == 2


def test_errors_are_not_stored_so_a_corrected_request_may_reuse_the_key(
    api, customer, product, address
):
    client = api(customer)
    failed = post_order(client, product, address, "fix-me", quantity=11)
    assert failed.status_code == 409
    assert not IdempotencyKey.objects.exists()
    fixed = post_order(client, product, address, "fix-me", quantity=1)
    assert fixed.status_code == 201


def test_expired_keys_are_forgotten(api, customer, product, address):
    client = api(customer)
    post_order(client, product, address, "old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = post_order(client, product, address, "old", quantity=2)
    assert response.status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey", "ñandú"])
def test_invalid_keys_are_validation_errors(api, customer, product, address, key):
    response = post_order(api(customer), product, address, key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert Order.objects.count() == 0


def test_process_replay_does_not_charge_twice_and_shows_the_outcome(api, customer, product):
    payment = make_payment(customer, make_order(customer, product))
    client = api(customer)
    url = f"/api/v1/payments/{payment.pk}/process"
    first = client.post(
        url, {"payment_method_id": "tok_success"}, format="json", HTTP_IDEMPOTENCY_KEY="p1"
    )
    again = client.post(
        url, {"payment_method_id": "tok_success"}, format="json", HTTP_IDEMPOTENCY_KEY="p1"
    )
    assert first.json()["status"] == "completed"
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert SimulatedGatewayOperation.objects.count() == 1


@pytest.mark.postgres
def test_in_flight_key_answers_409(api, customer, product, address):
    """While a first request holds the key (another connection), a second one is refused."""
    held, release = threading.Event(), threading.Event()

    def first_request_in_flight():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s)",
                    [idempotency.advisory_lock_id(customer.pk, "busy")],
                )
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_request_in_flight)
    thread.start()
    try:
        assert held.wait(10)
        response = post_order(api(customer), product, address, "busy")
    finally:
        release.set()
        thread.join()
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert Order.objects.count() == 0
    # Once the first request is gone, the key is free again.
    assert post_order(api(customer), product, address, "busy").status_code == 201


@pytest.mark.parametrize(
    "key",
    ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "4111_1111_1111_1111"],
)
def test_a_card_number_as_idempotency_key_is_refused_before_it_is_stored(
    api, customer, product, address, key
):
    # QA finding 6: the key is stored (idempotencykey table) and logged like any other field.
    response = post_order(api(customer), product, address, key)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert (error["code"], error["details"]) == (
        "CARD_DATA_NOT_ALLOWED",
        {"field": "Idempotency-Key"},
    )
    assert "4111" not in response.content.decode().replace(error["request_id"], "")
    assert not IdempotencyKey.objects.exists()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "key",
    [
        "order-9b2f1c1e-4111-4111-8111-111111111111",
        "5f0c3e9a8b7d6c5e4f3a2b1c0d9e8f7a",
        # Random ids that hold a Luhn-valid card-shaped run (about 1 in 400 hex ids did):
        "order_19421298-6516-4064-ac2a-93ef4b527cd9",  # a UUID glued to a prefix
        "4111111111111111abcdef0123456789",  # hex whose digits run into its letters
        "c0ffee4111111111111111",
        # Dates and counters: digit runs, not card data (a key that is only a card is refused).
        "checkout-20261201-000042-1234567890",
        "bench-3-1764580000-17-482910331",
        "order-4111-1111-1111-1111",
    ],
)
def test_an_ordinary_idempotency_key_with_digits_is_kept(api, customer, product, address, key):
    assert post_order(api(customer), product, address, key).status_code == 201
    assert IdempotencyKey.objects.filter(key=key).exists()
