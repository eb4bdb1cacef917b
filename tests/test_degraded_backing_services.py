"""Redis or the broker away (issue 16 item 1): degrade cleanly, never a 500."""

import json
import logging
import socket
import threading

import pytest
from django.db import connection

from gamarriando.logging import json_formatter
from orders.tests.factories import ProductFactory
from tests.helpers import make_order, make_payment

pytestmark = pytest.mark.django_db(transaction=True)
NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def redis_down(settings):
    """Point the cache (the throttles' counters) at a Redis that refuses connections."""
    settings.CACHES = {
        "default": {"BACKEND": "gamarriando.cache.ReusedClientRedisCache", "LOCATION": NOWHERE}
    }


def _unavailable(response):
    assert response.status_code == 503, response.content
    body = response.json()["error"]
    assert body["code"] == "SERVICE_UNAVAILABLE"
    assert set(body) == {"code", "message", "details", "request_id"}
    assert int(response["Retry-After"]) >= 1


def test_reads_and_order_creation_fail_open_when_redis_is_down(api, customer, address, redis_down):
    client = api(customer)
    product = ProductFactory(stock=5)
    body = {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": address}
    created = client.post("/api/v1/orders", body, format="json")
    assert created.status_code == 201, created.content
    assert client.get("/api/v1/orders").status_code == 200
    assert client.get("/api/v1/products").status_code == 200
    refresh = client.post("/api/v1/auth/token/refresh", {"refresh": "nope"}, format="json")
    assert refresh.status_code == 401


def test_money_writes_and_sign_in_refuse_cleanly_when_redis_is_down(api, customer, redis_down):
    client = api(customer)
    order = make_order(customer, ProductFactory(stock=5))
    body = {"order_id": order.pk, "payment_method": "simulated", "amount": "25.00"}
    _unavailable(client.post("/api/v1/payments", body, format="json"))
    payment = make_payment(customer, order)
    _unavailable(
        client.post(
            f"/api/v1/payments/{payment.pk}/process",
            {"payment_method_id": "tok_success"},
            format="json",
        )
    )
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("pending", 0)
    credentials = {"email": customer.email, "password": "s3cret-Passw0rd!"}
    _unavailable(api().post("/api/v1/auth/token", credentials, format="json"))
    register = {"email": "new@example.com", "password": "Tela-Gamarra-2026"}
    _unavailable(api().post("/api/v1/auth/register", register, format="json"))


def test_a_lost_database_connection_is_503_not_500(api, customer, monkeypatch):
    from django.db import OperationalError

    from orders import selectors

    def broken(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(selectors, "order_visible_to", broken)
    _unavailable(api(customer).get("/api/v1/orders"))


def test_a_failed_enqueue_is_one_warning_with_the_ids_and_no_traceback(customer, use_broker):
    from payments.services import payment_process

    payment = make_payment(customer, make_order(customer, ProductFactory(stock=5)))
    use_broker(NOWHERE)
    lines = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = lambda record: lines.append(json.loads(json_formatter().format(record)))
    logging.getLogger().addHandler(handler)
    try:
        processing = payment_process(
            payment_id=payment.pk, actor=customer, payment_method_id="tok_success"
        )
    finally:
        logging.getLogger().removeHandler(handler)
    assert processing.status == "processing"  # committed; the janitor sends the charge later
    assert [line["event"] for line in lines] == ["enqueue_failed"], lines
    assert "exception" not in lines[0]
    assert lines[0]["task"] == "payments.execute_transaction"
    assert lines[0]["transaction_id"] == processing.transactions.get().pk


@pytest.fixture
def hung_redis():
    """A Redis that accepts connections and never answers (a stopped process, a dead link)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)  # the kernel completes the handshakes; nobody ever reads or writes
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()


def within(seconds: float, call):
    """Run call() in a thread; fail (not hang) when it has not returned in time."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting on the hung Redis after {seconds} s"
    return outcome


def test_a_hung_broker_fails_an_enqueue_and_the_health_check_in_seconds(
    customer, use_broker, hung_redis, settings
):
    from gamarriando.health import _check_broker
    from payments.services import payment_process

    payment = make_payment(customer, make_order(customer, ProductFactory(stock=5)))
    use_broker(hung_redis)
    settings.CELERY_TASK_ALWAYS_EAGER = False  # /health asks the broker, not "inline"
    sent = within(
        10,
        lambda: payment_process(
            payment_id=payment.pk, actor=customer, payment_method_id="tok_success"
        ),
    )
    # Committed and answered well before gunicorn's 30 s kill; the janitor sends it later.
    assert sent["value"].status == "processing"
    assert "error" in within(10, _check_broker)
