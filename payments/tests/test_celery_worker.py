"""A real Celery worker process on Redis completes a payment asynchronously."""

import json
import os
import time

import pytest
import redis
from django.db import connection

from gamarriando.events import OutboxEvent
from payments.models import Payment
from payments.services import payment_process
from tests.helpers import make_order, make_payment
from tests.processes import Process, celery_worker_argv, process_environment

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_broker():
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/14"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.ConnectionError:
        pytest.skip("Redis is not reachable")
    return url


@pytest.fixture
def worker(redis_broker, tmp_path):
    env = process_environment(redis_broker)
    process = Process("worker", celery_worker_argv("solo"), env, tmp_path).start()
    yield process
    process.stop()


def test_payment_completes_in_a_worker_process(customer, product, redis_broker, worker, use_broker):
    use_broker(redis_broker)
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    processing = payment_process(
        payment_id=payment.pk, actor=customer, payment_method_id="tok_success"
    )
    assert processing.status == "processing"  # nothing ran inline: the worker does the charge
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        payment.refresh_from_db()
        if payment.status != "processing":
            break
        time.sleep(0.2)
    assert worker.poll() is None, worker.tail()
    if payment.status != "completed":
        worker.stop()
        pytest.fail(f"payment is {payment.status}; worker said:\n{worker.tail()}")
    order.refresh_from_db()
    assert order.status == "paid"
    assert Payment.objects.get(pk=payment.pk).captured_amount == order.total_amount
    # What the web side and the charge published reached the worker as kicks and was
    # dispatched there in batches (gamarriando/events.py).
    wanted = {"order.created", "payment.succeeded", "order.paid"}
    dispatched = set()
    while time.monotonic() < deadline and not wanted <= dispatched:
        time.sleep(0.2)
        dispatched = set(
            OutboxEvent.objects.filter(order_id=order.pk, dispatched_at__isnull=False).values_list(
                "type", flat=True
            )
        )
    assert wanted <= dispatched, worker.tail()
    # The worker writes JSON lines like the web (Django's LOGGING, not Celery's text format).
    lines = [line for line in worker.log.read_text().splitlines() if "execute_transaction" in line]
    assert lines, worker.tail()
    charged = [json.loads(line) for line in lines]
    assert {(e["task"], e["state"], e["transaction_id"]) for e in charged if e["event"] == "task"}


def _worker_backends(application_name: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [application_name]
        )
        return {pid for (pid,) in cursor.fetchall()}


def _charge_in_worker(customer, product, worker) -> None:
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    payment = payment_process(
        payment_id=payment.pk, actor=customer, payment_method_id="tok_success"
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and payment.status == "processing":
        time.sleep(0.2)
        payment.refresh_from_db()
    assert payment.status == "completed", worker.tail()


def test_a_prefork_worker_keeps_its_database_connection_between_tasks(
    customer, product, redis_broker, tmp_path, use_broker
):
    """Celery's Django fix-up closed the pool around every task: new backends per task (issue 9)."""
    use_broker(redis_broker)
    name = "gam-reuse-worker"
    env = process_environment(redis_broker, application_name=name, TEST_DATABASE_POOL="1")
    worker = Process("prefork-worker", celery_worker_argv("prefork", 1), env, tmp_path).start()
    try:
        _charge_in_worker(customer, product, worker)
        before = _worker_backends(name)
        assert before, worker.tail()
        for _ in range(3):
            _charge_in_worker(customer, product, worker)
        after = _worker_backends(name)
        # A PostgreSQL restart, as the worker sees it: its connections die between tasks.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [list(after)]
            )
        _charge_in_worker(customer, product, worker)  # tested before use: reconnects, completes
    finally:
        worker.stop()
    # The connections the first charge opened served the next three: none closed, none new.
    assert after == before, worker.tail()
