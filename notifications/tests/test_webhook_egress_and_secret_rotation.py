"""Outgoing webhooks: no redirects, no internal targets, no stored answers; secrets shown once."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from gamarriando.errors import PermissionDeniedError
from notifications.egress import TargetRefused, webhook_post
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from notifications.services import subscription_rotate_secret
from notifications.signing import signature_header, verify
from notifications.tests.factories import WebhookSubscriptionFactory
from orders.tests.factories import ProductFactory
from tests.factories import UserFactory
from tests.helpers import make_order

db_with_commits = pytest.mark.django_db(transaction=True)  # deliveries run on commit
SUBSCRIPTIONS = "/admin/notifications/webhooksubscription/"


class Endpoint:
    """A local HTTP endpoint that records every request and gives a set answer."""

    def __init__(self):
        self.requests, self.answer = [], (200, {}, b"ok")
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.requests.append((dict(self.headers), body))
                status, headers, answer = endpoint.answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def endpoint():
    server = Endpoint()
    yield server
    server.server.shutdown()


@pytest.fixture
def other_endpoint():
    server = Endpoint()
    yield server
    server.server.shutdown()


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


# --- item 6: where and how we send ------------------------------------------------------------


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


# --- item 7: signing secrets ----------------------------------------------------------------


def test_verify_accepts_any_v1_that_matches():
    body, now = b'{"id": "1"}', int(time.time())
    header = signature_header(body, ["whsec_new", "whsec_old"], timestamp=now)
    assert header.count("v1=") == 2 and header.startswith(f"t={now},v1=")
    assert verify(body, header, "whsec_new") and verify(body, header, "whsec_old")
    assert not verify(body, header, "whsec_other")
    assert not verify(b'{"id": "2"}', header, "whsec_old")
    assert not verify(body, signature_header(body, "whsec_old", timestamp=now - 301), "whsec_old")
    assert not verify(body, header.replace(f"t={now},", ""), "whsec_old")
    assert not verify(body, f"t={now},{header}", "whsec_old")  # two timestamps: refused


@pytest.mark.django_db
def test_the_secret_is_shown_once_at_creation_and_masked_afterwards(
    client, superuser, finance, support
):
    client.force_login(superuser)
    response = client.post(
        f"{SUBSCRIPTIONS}add/",
        {"url": "https://hooks.example.com/in", "event_types": "[]", "is_active": "on"},
    )
    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 200 and subscription.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    for user in (superuser, finance, support):
        client.force_login(user)
        page = client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/")
        html = page.content.decode()
        assert page.status_code == 200
        assert subscription.secret not in html and subscription.secret[6:-4] not in html
        assert subscription.secret[-4:] in html  # the masked form: kind and last four


@db_with_commits
def test_rotation_signs_with_both_secrets_for_24_hours(endpoint, customer, client, superuser):
    subscription = WebhookSubscriptionFactory(url=endpoint.url)
    old_secret = subscription.secret
    client.force_login(superuser)
    response = client.post(
        SUBSCRIPTIONS, {"action": "rotate_secret", "_selected_action": [subscription.pk]}
    )
    subscription.refresh_from_db()
    new_secret = subscription.secret
    assert new_secret != old_secret and subscription.previous_secret == old_secret
    assert new_secret in response.content.decode() and old_secret not in response.content.decode()
    overlap = subscription.previous_secret_expires_at - timezone.now()
    assert timedelta(hours=23, minutes=59) < overlap <= timedelta(hours=24)

    make_order(customer, ProductFactory())
    headers, body = endpoint.requests[-1]
    signature = headers["Gamarriando-Signature"]
    assert signature.count("v1=") == 2
    assert verify(body, signature, new_secret) and verify(body, signature, old_secret)

    WebhookSubscription.objects.update(previous_secret_expires_at=timezone.now())
    make_order(customer, ProductFactory())
    headers, body = endpoint.requests[-1]
    signature = headers["Gamarriando-Signature"]
    assert json.loads(body)["type"] == "order.created" and signature.count("v1=") == 1
    assert verify(body, signature, new_secret) and not verify(body, signature, old_secret)


@pytest.mark.django_db
def test_finance_and_support_cannot_rotate(client, finance, support):
    subscription = WebhookSubscriptionFactory()
    secret = subscription.secret
    for user in (finance, support):
        client.force_login(user)
        client.post(
            SUBSCRIPTIONS, {"action": "rotate_secret", "_selected_action": [subscription.pk]}
        )
        with pytest.raises(PermissionDeniedError):
            subscription_rotate_secret(subscription_id=subscription.pk, actor=user)
    subscription.refresh_from_db()
    assert subscription.secret == secret and subscription.previous_secret == ""
