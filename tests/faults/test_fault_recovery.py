"""The fault suite (issue 16): real processes killed, Redis lost, database connections dropped.

Served the production way at test scale: gunicorn (gthread) and a Celery worker as processes of
their own, on the test database and a redis-server started here without persistence. Checkouts
(order, payment, process ``tok_success``) run over HTTP while a fault happens; a client retries a
503 with the same Idempotency-Key, as the contract allows. The test process plays beat: it runs
the janitor and the outbox sweep every second instead of every 60 and 30 seconds.

After each fault: every accepted payment is final within the bound, no payment was charged
twice at the gateway, payment columns equal the ledger, no request answered 500, and the
outbox is fully dispatched.
"""

import sys
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.db.models import F
from rest_framework_simplejwt.tokens import AccessToken

from gamarriando.events import OutboxEvent
from gamarriando.tasks import sweep_outbox
from orders.models import Order
from orders.tests.factories import ADDRESS, ProductFactory
from payments.models import Payment, SimulatedGatewayOperation
from payments.tasks import reconcile_pending
from payments.transitions import FINAL
from tests.factories import UserFactory
from tests.faults.redis_server import RedisServer, free_port
from tests.processes import Process, celery_worker_argv, process_environment, wait_until_live
from transactions.selectors import ledger_totals

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the fault suite needs PostgreSQL (processes share the test database, and it "
        "terminates connections); set DATABASE_URL to run it",
    ),
    pytest.mark.skipif(not RedisServer.available(), reason="the fault suite needs redis-server"),
]
LATENCY_MS = 700  # slow charges, so that a kill lands mid-charge
CHECKOUTS = 12
# Test scale of the README's bound (janitor interval + RECONCILE_AFTER_SECONDS): a 1 s janitor
# and 2 s of grace, plus the worker's reconnect and a loaded machine's slack.
RECONCILE_AFTER_SECONDS = 2
BOUND_SECONDS = 45
OUTBOX_SWEEP_GRACE = timedelta(seconds=30)  # gamarriando.tasks.sweep_outbox
WEB_APP_NAME, WORKER_APP_NAME = "gam_faults_web", "gam_faults_worker"


def _environment(redis_url: str, application_name: str) -> dict:
    return process_environment(
        redis_url,
        application_name,
        REDIS_URL=redis_url,
        SIMULATED_GATEWAY_LATENCY_MS=str(LATENCY_MS),
    )


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(django_db_setup, redis_server, tmp_path_factory):
    """Start gunicorn and a Celery worker against the test database and our own Redis."""
    logs = tmp_path_factory.mktemp("faults")
    port = free_port()
    web = Process(
        "web",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "gamarriando.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--preload",
            "--timeout",
            "60",
        ],
        _environment(redis_server.url, WEB_APP_NAME),
        logs,
    ).start()
    worker = Process(
        "worker",
        celery_worker_argv("threads", concurrency=2),
        _environment(redis_server.url, WORKER_APP_NAME),
        logs,
    ).start()
    base_url = f"http://127.0.0.1:{port}"
    if not wait_until_live(base_url, web):
        web.stop()
        worker.stop()
        pytest.fail(f"gunicorn did not start:\n{web.tail()}")
    yield {"url": base_url, "web": web, "worker": worker, "redis": redis_server}
    worker.stop()
    web.stop()


@pytest.fixture
def beat(settings, use_broker, redis_server, stack):
    """This process runs the janitor and the sweep, queuing on the stack's broker."""
    settings.RECONCILE_AFTER_SECONDS = RECONCILE_AFTER_SECONDS
    use_broker(redis_server.url)
    if stack["worker"].poll() is not None:
        stack["worker"].start()
    yield
    # The worker may still be sending the test's e-mails and deliveries: stop it (a warm
    # shutdown finishes its task) and drop what is queued, so that the database flush after
    # the test never deadlocks with one of its transactions, nor the next test inherits it.
    stack["worker"].stop()
    redis_server.client().flushall()


class Checkouts:
    """Storefront clients placing orders and paying them, retrying a 503 with the same key."""

    def __init__(self, base_url: str, count: int):
        self.base_url = base_url
        self.products = [ProductFactory(price=Decimal("19.90"), stock=1000) for _ in range(3)]
        self.users = [UserFactory() for _ in range(count)]
        self.statuses: list[int] = []
        self.accepted: list[int] = []  # payment ids whose process answered 202
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> "Checkouts":
        for n, user in enumerate(self.users):
            thread = threading.Thread(target=self._run, args=(n, user), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def join(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        assert not any(thread.is_alive() for thread in self._threads), "a checkout hung"

    def _run(self, n: int, user) -> None:
        """One checkout in its thread; what it raises is kept for the test's thread to assert."""
        try:
            self._checkout(n, user)
        except Exception as exc:
            with self._lock:
                self.refused.append(f"checkout {n} raised {exc!r}")

    def _post(self, session: requests.Session, path: str, body: dict) -> requests.Response:
        key = uuid.uuid4().hex  # one key per operation, reused by every retry of it
        deadline = time.monotonic() + 60
        while True:
            try:
                response = session.post(
                    f"{self.base_url}{path}",
                    json=body,
                    headers={"Idempotency-Key": key},
                    timeout=30,
                )
            except requests.ConnectionError:
                response = None
            if response is not None:
                with self._lock:
                    self.statuses.append(response.status_code)
                if response.status_code != 503:
                    return response
                wait = min(float(response.headers.get("Retry-After", 1)), 0.5)
            else:
                wait = 0.3
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} never recovered")
            time.sleep(wait)

    def _checkout(self, n: int, user) -> None:
        session = requests.Session()
        token = AccessToken.for_user(user)  # no database row, so no connection in this thread
        session.headers["Authorization"] = f"Bearer {token}"
        product = self.products[n % len(self.products)]
        body = {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": ADDRESS}
        order = self._post(session, "/api/v1/orders", body)
        if order.status_code != 201:
            return self._refuse("order", order)
        body = {"order_id": order.json()["id"], "payment_method": "simulated", "amount": "19.90"}
        payment = self._post(session, "/api/v1/payments", body)
        if payment.status_code != 201:
            return self._refuse("payment", payment)
        payment_id = payment.json()["id"]
        processed = self._post(
            session, f"/api/v1/payments/{payment_id}/process", {"payment_method_id": "tok_success"}
        )
        if processed.status_code != 202:
            return self._refuse("process", processed)
        with self._lock:
            self.accepted.append(payment_id)

    def _refuse(self, step: str, response: requests.Response) -> None:
        with self._lock:
            self.refused.append(f"{step}: {response.status_code} {response.text[:200]}")


def _run_beat_until_settled(stack, accepted: list[int]) -> float:
    """Play beat every second until every accepted payment is final and the outbox is empty."""
    started = time.monotonic()
    while time.monotonic() - started < BOUND_SECONDS:
        reconcile_pending()
        # Events older than the sweep's grace are swept; the clock moves instead of the test waiting.
        OutboxEvent.objects.filter(dispatched_at__isnull=True).update(
            created_at=F("created_at") - OUTBOX_SWEEP_GRACE
        )
        sweep_outbox()
        settled = not Payment.objects.filter(pk__in=accepted).exclude(status__in=FINAL).exists()
        if settled and not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists():
            return time.monotonic() - started
        time.sleep(1)
    stuck = list(
        Payment.objects.filter(pk__in=accepted).exclude(status__in=FINAL).values("pk", "status")
    )
    pytest.fail(
        f"not settled within {BOUND_SECONDS} s: {stuck}; "
        f"{OutboxEvent.objects.filter(dispatched_at__isnull=True).count()} events undispatched\n"
        f"worker:\n{stack['worker'].tail()}\nweb:\n{stack['web'].tail()}"
    )


def _assert_money_is_right(checkouts: Checkouts) -> None:
    assert 500 not in checkouts.statuses
    assert all(code < 500 or code == 503 for code in checkouts.statuses), checkouts.statuses
    assert not checkouts.refused, checkouts.refused
    assert len(checkouts.accepted) == CHECKOUTS
    # Every payment that reached the gateway path was answered 202 to its client.
    attempted = set(Payment.objects.filter(attempts__gt=0).values_list("pk", flat=True))
    assert attempted == set(checkouts.accepted)
    for payment in Payment.objects.filter(pk__in=checkouts.accepted).select_related("order"):
        charges = SimulatedGatewayOperation.objects.filter(
            idempotency_key__startswith=f"payment-{payment.pk}-attempt-",
            kind__in=["charge", "authorization"],
        )
        assert charges.count() == 1, f"payment {payment.pk} charged {charges.count()} times"
        assert payment.status == "completed", (payment.pk, payment.status)
        totals = ledger_totals(payment.pk)
        assert (payment.captured_amount, payment.refunded_amount) == (
            totals.captured,
            totals.refunded,
        )
        assert payment.order.status == "paid"
        assert payment.order.amount_paid == totals.captured
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def _wait_for(condition, timeout: float = 30, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the fault's moment never came")
        time.sleep(every)


def _charges_recorded() -> int:
    return SimulatedGatewayOperation.objects.filter(kind="charge").count()


def test_a_worker_killed_mid_charge_and_restarted(stack, beat):
    checkouts = Checkouts(stack["url"], CHECKOUTS).start()
    # Mid-charge: the worker has finished some charges and is sleeping inside others.
    _wait_for(lambda: _charges_recorded() >= 2)
    stack["worker"].kill()
    killed_at = _charges_recorded()
    checkouts.join()
    time.sleep(2)
    stack["worker"].start()
    took = _run_beat_until_settled(stack, checkouts.accepted)
    assert killed_at < CHECKOUTS  # the kill left charges undone, which the recovery finished
    _assert_money_is_right(checkouts)
    print(f"worker kill: settled {took:.1f} s after the restart")


def test_redis_stopped_and_restarted_empty(stack, beat):
    checkouts = Checkouts(stack["url"], CHECKOUTS).start()
    _wait_for(lambda: Order.objects.exists())
    stack["redis"].stop()  # queued messages, unacknowledged ones and throttle counters: gone
    time.sleep(3)
    stack["redis"].start()
    checkouts.join()
    assert 503 in checkouts.statuses  # money writes refused cleanly while Redis was away
    _run_beat_until_settled(stack, checkouts.accepted)
    _assert_money_is_right(checkouts)


def test_database_connections_dropped_mid_request(stack, beat):
    checkouts = Checkouts(stack["url"], CHECKOUTS).start()
    terminated = 0
    with connection.cursor() as cursor:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s "
                "AND pid <> pg_backend_pid()",
                [WEB_APP_NAME],
            )
            terminated += cursor.fetchone()[0]
            time.sleep(0.02)
    checkouts.join()
    assert terminated > 0, "no request was in flight to drop"
    _run_beat_until_settled(stack, checkouts.accepted)
    _assert_money_is_right(checkouts)


POOLED_APP_NAME = "gam_faults_pooled_web"


@pytest.fixture
def pooled_web(django_db_setup, redis_server, tmp_path):
    """A gunicorn worker holding production's connection pool (the other web runs without)."""
    port = free_port()
    environment = {**_environment(redis_server.url, POOLED_APP_NAME), "TEST_DATABASE_POOL": "true"}
    argv = [sys.executable, "-m", "gunicorn", "gamarriando.wsgi:application"]
    web = Process("pooled-web", [*argv, "--bind", f"127.0.0.1:{port}"], environment, tmp_path)
    web.start()
    base_url = f"http://127.0.0.1:{port}"
    if not wait_until_live(base_url, web):
        web.stop()
        pytest.fail(f"gunicorn did not start:\n{web.tail()}")
    yield base_url
    web.stop()


def test_idle_pooled_connections_the_server_closed_are_replaced(pooled_web):
    """A PostgreSQL restart or a terminated backend must not fail the requests after it."""
    products = f"{pooled_web}/api/v1/products"
    for _ in range(3):
        assert requests.get(products, timeout=10).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [POOLED_APP_NAME],
        )
        assert cursor.fetchone()[0] > 0, "the pool held no connection to drop"
    # Wait until the backends are gone (the pool does not know yet), else nothing is tested.
    _wait_for(lambda: not _backends_of(POOLED_APP_NAME))
    statuses = [requests.get(products, timeout=10).status_code for _ in range(6)]
    assert statuses == [200] * 6


def _backends_of(application_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [application_name],
        )
        return cursor.fetchone()[0]
