"""Outgoing webhooks: no redirects, no internal targets, no stored answers."""

import socket
import threading
import time

import pytest

from notifications import egress
from notifications.egress import TargetRefused, webhook_post
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from notifications.tests.factories import WebhookSubscriptionFactory
from notifications.tests.helpers import SUBSCRIPTIONS, db_with_commits
from orders.tests.factories import ProductFactory
from tests.helpers import make_order


@db_with_commits
def test_a_redirect_is_recorded_and_not_followed(endpoint, other_endpoint, customer):
    endpoint.answer = (302, {"Location": other_endpoint.url}, b"")
    WebhookSubscriptionFactory(url=endpoint.url)
    make_order(customer, ProductFactory())
    assert len(endpoint.requests) == 1
    assert other_endpoint.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [302]


@db_with_commits
def test_the_answer_body_is_neither_stored_nor_shown(endpoint, customer, client, finance):
    endpoint.answer = (500, {}, b"db_password=hunter2 at 10.0.0.5")
    WebhookSubscriptionFactory(url=endpoint.url)
    make_order(customer, ProductFactory())
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.error) == (500, "")
    assert attempt.latency_ms >= 0
    assert "response_excerpt" not in {field.name for field in WebhookAttempt._meta.get_fields()}
    client.force_login(finance)
    page = client.get(f"/admin/notifications/webhookdelivery/{attempt.delivery_id}/change/")
    assert page.status_code == 200
    assert "hunter2" not in page.content.decode()


def _targets(port):
    return [
        f"http://127.0.0.1:{port}/hooks",
        f"http://localhost:{port}/hooks",  # loopback after DNS
        f"http://127.1.2.3:{port}/hooks",
        f"http://2130706433:{port}/hooks",  # 127.0.0.1 written as one number
        f"http://[::1]:{port}/hooks",
        f"http://[::ffff:127.0.0.1]:{port}/hooks",
        f"http://0.0.0.0:{port}/hooks",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.1/hooks",
        "http://172.16.5.4/hooks",
        "http://192.168.1.1/hooks",
        "http://100.64.0.1/hooks",  # carrier-grade NAT
        "http://[fe80::1]/hooks",
        "http://224.0.0.1/hooks",  # multicast
        "http://240.0.0.1/hooks",  # reserved
        "https://10.0.0.1/hooks",
    ]


@pytest.mark.parametrize("index", range(17))
def test_internal_addresses_are_refused_before_connecting(endpoint, settings, index):
    settings.WEBHOOK_ALLOW_LOOPBACK_TARGETS = False
    url = _targets(endpoint.port)[index]
    started = time.monotonic()
    with pytest.raises(TargetRefused):
        webhook_post(url, body=b"{}", headers={"Content-Type": "application/json"})
    assert time.monotonic() - started < 2  # refused, not a connection that timed out
    assert endpoint.requests == []


@db_with_commits
def test_a_refused_target_is_a_failed_attempt_and_nothing_is_sent(endpoint, customer, settings):
    settings.WEBHOOK_ALLOW_LOOPBACK_TARGETS = False
    WebhookSubscriptionFactory(url=f"http://localhost:{endpoint.port}/hooks")
    make_order(customer, ProductFactory())
    assert endpoint.requests == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and attempt.error.startswith("Refused:")
    assert attempt.delivery.status == "pending"  # retried later, like any failure


def test_the_host_is_resolved_once_and_the_name_kept_in_the_host_header(endpoint):
    # Loopback allowed here (test settings): the name resolves, the request goes to the
    # address that was checked, and the subscriber still sees its own name.
    status = webhook_post(
        f"http://localhost:{endpoint.port}/hooks", body=b"{}", headers={"X-Test": "1"}
    )
    assert status == 200
    headers, body = endpoint.requests[0]
    assert headers["Host"] == f"localhost:{endpoint.port}" and body == b"{}"


@pytest.mark.django_db
def test_https_is_required_when_the_setting_says_so(endpoint, settings, client, superuser):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    with pytest.raises(TargetRefused, match="https"):
        webhook_post(endpoint.url, body=b"{}", headers={})
    assert endpoint.requests == []
    client.force_login(superuser)
    response = client.post(
        f"{SUBSCRIPTIONS}add/", {"url": endpoint.url, "event_types": "[]", "is_active": "on"}
    )
    assert response.status_code == 200 and "must use https" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("where", ["main thread", "other thread"])
def test_an_answer_that_trickles_in_is_cut_at_the_deadline(monkeypatch, where):
    """Each header within the read timeout, the whole far beyond it: cut at the deadline."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def trickle():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.wait(0.5):  # one header line every half second, forever
            try:
                conn.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    monkeypatch.setattr(egress, "DEADLINE_SECONDS", 2)
    outcome = {}

    def post():
        started = time.monotonic()
        try:
            webhook_post(f"http://127.0.0.1:{port}/hooks", body=b"{}", headers={})
        except Exception as exc:  # noqa: BLE001 - recorded for the test's own thread
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - started

    try:
        if where == "main thread":
            post()
        else:  # a threads pool, or a task run inline by a web thread
            worker = threading.Thread(target=post)
            worker.start()
            worker.join(30)
    finally:
        stop.set()
        listener.close()
    assert isinstance(outcome["error"], egress.DeadlineExceeded), outcome
    assert 1.9 < outcome["seconds"] < 10


def test_a_quick_answer_is_kept_and_its_watchdog_stopped(endpoint):
    before = threading.active_count()
    assert webhook_post(endpoint.url, body=b"{}", headers={}) == 200
    # The watchdog timer was cancelled: no thread outlives the attempt (the endpoint's own
    # request thread may take a moment to end, the 20 s timer would not).
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before
