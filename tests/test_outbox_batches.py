"""The outbox with a broker: one kick per burst of commits, events dispatched in batches."""

import base64
import json
import os
import threading
import time
import uuid
from unittest.mock import ANY

import pytest
import redis
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from gamarriando import events
from gamarriando.events import KICK_KEY, OutboxEvent, dispatch_batch
from gamarriando.tasks import dispatch_pending
from notifications.tasks import send_customer_email, send_customer_emails
from notifications.tests.factories import WebhookSubscriptionFactory
from orders.services import order_cancel
from orders.tests.factories import ProductFactory
from payments.services.ledger_core import payment_event_data
from tests.helpers import make_order, make_paid
from tests.threads import run_concurrently
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_db(settings):
    """A Redis database of this file's, with the cache on it as in production (one shared key)."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/15"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.ConnectionError:
        pytest.skip("Redis is not reachable")
    settings.CACHES = {
        "default": {"BACKEND": "gamarriando.cache.ReusedClientRedisCache", "LOCATION": url}
    }
    yield client
    client.flushdb()


@pytest.fixture
def broker(redis_db, use_broker):
    """That database as a broker nobody reads: what is sent stays queued for the test to see."""
    use_broker(_url(redis_db))
    return redis_db


def _queued(client, queue: str = "events") -> list[str]:
    """The task names of the messages waiting in a queue, oldest first."""
    return [json.loads(raw)["headers"]["task"] for raw in reversed(client.lrange(queue, 0, -1))]


@pytest.fixture
def handled():
    """Handlers for two test-only event types: one records once committed, one fails."""
    seen: list[str] = []
    lock = threading.Lock()

    def record(envelope):
        # As the real handlers: database writes and work sent on commit, so nothing of a
        # rolled-back batch is left.
        transaction.on_commit(lambda: _append(envelope["id"]))
        time.sleep(0.002)  # long enough for two concurrent batches to overlap

    def _append(event_id):
        with lock:
            seen.append(event_id)

    def fail(envelope):
        raise RuntimeError("the subscriber's database said no")

    events.subscribe("test.recorded")(record)
    events.subscribe("test.failing")(fail)
    yield seen
    events._handlers["test.recorded"].remove(record)
    events._handlers["test.failing"].remove(fail)


def _write(kind: str, count: int = 1) -> list[str]:
    """Outbox rows as publish writes them, with no dispatch after commit."""
    return [str(OutboxEvent.objects.create(type=kind, data={"n": n}).pk) for n in range(count)]


def test_many_commits_queue_one_task_which_dispatches_them_all(customer, broker):
    product = ProductFactory(stock=10)
    orders = [make_order(customer, product) for _ in range(3)]

    assert _queued(broker) == ["gamarriando.dispatch_pending"]  # not one task per order.created
    created = OutboxEvent.objects.filter(type="order.created", order_id__in=[o.pk for o in orders])
    assert created.filter(dispatched_at__isnull=True).count() == 3

    assert dispatch_pending() == 3
    assert created.filter(dispatched_at__isnull=False, attempts=1).count() == 3
    assert cache.get(KICK_KEY) is None

    make_order(customer, product)  # the key is gone: the next commit kicks again
    assert _queued(broker) == ["gamarriando.dispatch_pending"] * 2


def test_a_failing_handler_sends_only_its_event_the_one_event_way(broker, handled):
    good = _write("test.recorded", 2)
    (bad,) = _write("test.failing")
    later = _write("test.recorded")

    assert dispatch_batch() == 4

    assert sorted(handled) == sorted(good + later)  # each once: the failed batch was rolled back
    assert OutboxEvent.objects.filter(pk__in=good + later, dispatched_at__isnull=False).count() == 3
    failed = OutboxEvent.objects.get(pk=bad)
    assert failed.dispatched_at is None and "said no" in failed.last_error
    assert _queued(broker) == ["gamarriando.dispatch_event"]
    # A failed event belongs to its retrying task: later batches leave it alone.
    assert dispatch_batch() == 0


def test_a_batch_takes_the_oldest_events_up_to_its_size(broker, handled):
    written = _write("test.recorded", 5)
    assert dispatch_batch(limit=2) == 2
    assert handled == written[:2]
    assert dispatch_pending() == 3
    assert handled == written


@pytest.mark.postgres
def test_concurrent_batches_dispatch_every_event_exactly_once(broker, handled):
    written = _write("test.recorded", 60)

    def drain(_):
        while dispatch_batch(limit=7):
            pass

    assert run_concurrently(3, drain) == [None] * 3  # no thread raised
    assert sorted(handled) == sorted(written)  # none twice, none lost
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_a_kick_the_broker_refused_is_forgotten_so_the_next_commit_kicks_again(
    customer, broker, use_broker
):
    product = ProductFactory(stock=10)
    use_broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    lost = make_order(customer, product)
    assert cache.get(KICK_KEY) is None  # no task holds it: the sweep sends this one
    assert OutboxEvent.objects.get(order_id=lost.pk).dispatched_at is None

    use_broker(_url(broker))
    make_order(customer, product)
    assert _queued(broker) == ["gamarriando.dispatch_pending"]
    assert dispatch_pending() == 2  # the lost one too: a batch takes every waiting event


def _url(client) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs['db']}"


def test_with_a_cache_of_its_own_per_process_every_event_queues_its_task(
    customer, broker, settings
):
    # A broker without REDIS_URL: the worker could never clear a web process's key.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    product = ProductFactory(stock=10)
    make_order(customer, product)
    make_order(customer, product)
    assert _queued(broker) == ["gamarriando.dispatch_pending"] * 2


@pytest.mark.postgres
def test_an_event_committed_while_a_batch_runs_is_not_left_behind(broker, handled):
    spawned: list[str] = []

    def spawn(envelope):
        def publish_elsewhere():
            with transaction.atomic():
                spawned.append(str(events.publish("test.recorded", {}).pk))
            connection.close()

        thread = threading.Thread(target=publish_elsewhere)
        thread.start()
        thread.join()

    events.subscribe("test.spawning")(spawn)
    try:
        cache.add(KICK_KEY, 1, timeout=events.KICK_SECONDS)  # as the kick of this task left it
        _write("test.spawning")
        assert dispatch_pending() == 1
    finally:
        events._handlers["test.spawning"].remove(spawn)
    # Committed after this task's read: the key was already gone, so it kicked a task of its own.
    assert spawned and spawned[0] not in handled
    assert _queued(broker) == ["gamarriando.dispatch_pending"]


def test_with_the_cache_away_every_event_sends_its_own_task(customer, broker, monkeypatch):
    class Away:
        def add(self, *args, **kwargs):
            raise redis.ConnectionError("Connection refused")

        delete = add

    monkeypatch.setattr(events, "cache", Away())
    product = ProductFactory(stock=10)
    make_order(customer, product)
    make_order(customer, product)
    assert _queued(broker) == ["gamarriando.dispatch_pending"] * 2


@pytest.mark.postgres
def test_one_batch_runs_the_refunds_of_two_cancelled_orders(customer, redis_db, use_broker):
    """Handlers that lock orders and payments, two orders in one batch."""
    paid = [make_paid(customer, ProductFactory(stock=5)) for _ in range(2)]  # inline, as before
    use_broker(_url(redis_db))
    for order, _ in paid:
        order_cancel(order_id=order.pk, actor=customer)
    assert _queued(redis_db) == ["gamarriando.dispatch_pending"]

    dispatch_pending()

    cancelled = OutboxEvent.objects.filter(type="order.cancelled")
    assert cancelled.count() == 2 and not cancelled.filter(dispatched_at__isnull=True).exists()
    for _, payment in paid:
        refund = Transaction.objects.get(payment=payment, transaction_type="refund")
        assert (refund.status, refund.amount) == ("pending", payment.amount)
    assert _queued(redis_db, "payments") == ["payments.execute_transaction"] * 2


def test_the_sweep_goes_past_an_event_whose_handler_keeps_failing(handled):
    from datetime import timedelta

    from django.utils import timezone

    from gamarriando.tasks import sweep_outbox

    (bad,) = _write("test.failing")
    (good,) = _write("test.recorded")
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(minutes=5))

    assert sweep_outbox() == 1

    assert handled == [good]
    assert "said no" in OutboxEvent.objects.get(pk=bad).last_error


def _kwargs(client, queue: str) -> list[tuple[str, dict]]:
    """The task names and keyword arguments of the messages waiting in a queue, oldest first."""
    found = []
    for raw in reversed(client.lrange(queue, 0, -1)):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], body[1]))
    return found


def _succeeded(payment) -> str:
    return str(events.publish("payment.succeeded", payment_event_data(payment)).pk)


def test_a_batch_sends_its_customer_emails_as_one_task_and_reads_subscriptions_once(
    customer, redis_db, use_broker, mailoutbox
):
    paid = [make_paid(customer, ProductFactory(stock=5))[1] for _ in range(3)]  # inline
    WebhookSubscriptionFactory(event_types=["order.paid"])  # wants none of these events
    mailoutbox.clear()
    use_broker(_url(redis_db))
    events_published = [_succeeded(payment) for payment in paid]

    with CaptureQueriesContext(connection) as queries:
        assert dispatch_batch() == 3

    reads = [q for q in queries.captured_queries if "notifications_webhooksubscription" in q["sql"]]
    assert len(reads) == 1, reads  # one read for the batch, not one per event
    queued = [(task, kwargs) for task, kwargs in _kwargs(redis_db, "events") if "email" in task]
    ((task, kwargs),) = queued  # one task for the three e-mails
    assert task == "notifications.send_customer_emails"
    assert [email["data"]["payment_id"] for email in kwargs["emails"]] == [p.pk for p in paid]
    assert [email["event_id"] for email in kwargs["emails"]] == events_published
    assert send_customer_emails(**kwargs) == 3
    assert [mail.to for mail in mailoutbox] == [[customer.email]] * 3
    assert all(mail.subject.startswith("Payment received") for mail in mailoutbox)


def test_a_rolled_back_batch_sends_no_emails_of_its_own(
    customer, redis_db, use_broker, handled, mailoutbox
):
    _, payment = make_paid(customer, ProductFactory(stock=5))
    use_broker(_url(redis_db))
    _succeeded(payment)
    _write("test.failing")

    assert dispatch_batch() == 2  # the batch fails, then each event goes the one-event way

    sent = [kwargs for task, kwargs in _kwargs(redis_db, "events") if "email" in task]
    assert sent == [{"emails": [ANY]}]  # once, from the event dispatched alone


def test_an_email_that_fails_goes_on_alone_and_the_others_are_sent(
    customer, redis_db, use_broker, mailoutbox
):
    _, payment = make_paid(customer, ProductFactory(stock=5))
    mailoutbox.clear()
    use_broker(_url(redis_db))
    good = {"event_type": "payment.succeeded", "data": payment_event_data(payment)}
    lost = {"event_type": "payment.succeeded", "data": {**good["data"], "order_id": 10**9}}

    assert send_customer_emails(emails=[lost, good]) == 1

    assert [mail.to for mail in mailoutbox] == [[customer.email]]
    assert _kwargs(redis_db, "events") == [("notifications.send_customer_email", lost)]


def test_a_batch_run_again_sends_only_what_it_had_not_sent(customer, mailoutbox):
    """A worker that dies before the ack gets its message redelivered: no e-mail goes twice."""
    _, payment = make_paid(customer, ProductFactory(stock=5))
    mailoutbox.clear()
    first, second = (
        {"event_id": str(uuid.uuid4()), "event_type": "payment.succeeded", "data": data}
        for data in (payment_event_data(payment), payment_event_data(payment))
    )
    assert send_customer_emails(emails=[first]) == 1  # the run that died after this one

    assert send_customer_emails(emails=[first, second]) == 1

    assert len(mailoutbox) == 2
    send_customer_email(**second)  # the one-by-one task knows it went, too
    assert len(mailoutbox) == 2
