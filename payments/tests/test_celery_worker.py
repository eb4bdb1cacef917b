"""A real Celery worker process on Redis completes a payment asynchronously."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from payments.models import Payment
from payments.services import payment_process
from tests.helpers import make_order, make_payment

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_broker():
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/14"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.ConnectionError:
        pytest.skip("Redis is not reachable")
    return url


@pytest.fixture
def worker(redis_broker):
    db = settings.DATABASES["default"]
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="gamarriando.settings.test",
        CELERY_TEST_BROKER_URL=redis_broker,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{connection.settings_dict['NAME']}",
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "gamarriando",
            "worker",
            "-P",
            "solo",
            "-l",
            "warning",
            "-Q",
            "default,payments,events,maintenance",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


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
    assert worker.poll() is None, worker.stdout.read()
    if payment.status != "completed":
        worker.terminate()
        pytest.fail(
            f"payment is {payment.status}; worker said:\n{worker.communicate(timeout=15)[0]}"
        )
    order.refresh_from_db()
    assert order.status == "paid"
    assert Payment.objects.get(pk=payment.pk).captured_amount == order.total_amount
