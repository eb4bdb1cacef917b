"""Outbox, outgoing webhooks, e-mails, dead letters and log redaction."""

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from gamarriando.dead_letters import DeadLetter
from gamarriando.events import OutboxEvent
from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.signing import verify
from notifications.tasks import retry_due_deliveries
from notifications.tests.factories import WebhookSubscriptionFactory
from orders.services import order_create
from orders.tests.factories import ProductFactory
from tests.helpers import make_order, make_paid

pytestmark = pytest.mark.django_db(transaction=True)


class Subscriber:
    """A local HTTP endpoint that can be down or up and records what it was sent.

    The handler runs in the server's thread, where a failed assertion would only be logged, so it
    records each request's body and signature header; `unverified()` checks the signatures in
    the caller's thread.
    """

    def __init__(self):
        self.up, self.received, self.requests, self.secret = False, [], [], None
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                subscriber.requests.append((body, self.headers["Gamarriando-Signature"]))
                if not subscriber.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                subscriber.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def unverified(self) -> list[bytes]:
        """Return the bodies of requests whose signature does not verify with the secret."""
        return [
            body
            for body, signature in self.requests
            if signature is None or not verify(body, signature, self.secret)
        ]


@pytest.fixture
def subscriber():
    endpoint = Subscriber()
    subscription = WebhookSubscriptionFactory(url=endpoint.url)
    endpoint.secret = subscription.secret
    yield endpoint
    endpoint.server.shutdown()


def test_an_event_is_not_published_when_its_transaction_rolls_back(customer, product, address):
    with pytest.raises(RuntimeError), transaction.atomic():
        order_create(
            user=customer,
            items=[{"product_id": product.pk, "quantity": 1}],
            shipping_address=address,
        )
        raise RuntimeError("the request failed after the order was written")
    assert not OutboxEvent.objects.exists()
    make_order(customer, product)
    assert list(OutboxEvent.objects.values_list("type", flat=True)) == ["order.created"]
    assert OutboxEvent.objects.get().dispatched_at is not None


def test_a_subscriber_that_was_down_gets_every_event_once_in_order(subscriber, customer):
    from django.utils import timezone

    order, payment = make_paid(customer, ProductFactory(price=Decimal("20.00"), stock=5))
    assert subscriber.received == []
    assert WebhookDelivery.objects.filter(status="pending").count() == 4
    subscriber.up = True
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())  # the backoff has elapsed
    retry_due_deliveries()
    retry_due_deliveries()  # a second sweep sends nothing twice
    types = [event["type"] for event in subscriber.received]
    assert types == ["order.created", "payment.created", "payment.succeeded", "order.paid"]
    assert len({event["id"] for event in subscriber.received}) == 4
    assert len(subscriber.requests) == 5  # one refused while down (the rest waited), four accepted
    assert subscriber.unverified() == []
    assert set(subscriber.received[0]) >= {"id", "type", "created_at", "data"}
    assert subscriber.received[0]["data"]["order_id"] == order.pk
    delivery = WebhookDelivery.objects.order_by("created_at").first()
    attempts = list(delivery.attempt_log.order_by("pk").values_list("status_code", flat=True))
    assert attempts == [503, 200]


def test_an_endpoint_that_keeps_failing_is_disabled_and_admins_told(
    subscriber, customer, mailoutbox, settings
):
    from notifications import services

    settings.ADMINS = [("Ops", "ops@gamarriando.pe")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.DISABLE_AFTER_FAILURES, original = 3, services.DISABLE_AFTER_FAILURES
    try:
        make_order(customer, ProductFactory())
        from django.utils import timezone

        for _ in range(3):
            WebhookDelivery.objects.update(next_attempt_at=timezone.now())
            retry_due_deliveries()
    finally:
        services.DISABLE_AFTER_FAILURES = original
    sub = WebhookSubscription.objects.get()
    assert sub.is_active is False and sub.disabled_at is not None
    assert any("Webhook endpoint disabled" in mail.subject for mail in mailoutbox)


def test_customers_get_emails_for_payments_and_refunds(customer, finance, mailoutbox):
    from payments.services import payment_refund

    _, payment = make_paid(customer, ProductFactory(price=Decimal("40.00"), stock=5))
    make_paid(customer, ProductFactory(price=Decimal("10.00"), stock=5), token="tok_declined")
    payment_refund(
        payment_id=payment.pk, actor=finance, amount=Decimal("15.00"), reason="late delivery"
    )
    subjects = sorted(mail.subject.split(" for ")[0] for mail in mailoutbox)
    assert subjects == ["Payment failed", "Payment received", "Refund"]
    refund_mail = next(mail for mail in mailoutbox if mail.subject.startswith("Refund"))
    assert refund_mail.to == [customer.email]
    assert "15.00 PEN" in refund_mail.body
    assert refund_mail.alternatives[0][1] == "text/html"


def test_a_task_that_fails_for_good_leaves_a_dead_letter_that_staff_can_retry(
    client, customer, finance, monkeypatch
):
    from payments import services
    from payments.models import Payment
    from payments.services import payment_process
    from tests.helpers import make_payment

    payment = make_payment(
        customer, make_order(customer, ProductFactory(price=Decimal("12.00"), stock=5))
    )
    original = services.payment_execute_transaction

    def broken(**kwargs):
        raise RuntimeError("worker bug")

    monkeypatch.setattr(services, "payment_execute_transaction", broken)
    payment_process(payment_id=payment.pk, actor=customer, payment_method_id="tok_success")
    letter = DeadLetter.objects.get()
    assert letter.task_name == "payments.execute_transaction"
    assert "worker bug" in letter.error
    assert letter.status == "open"
    monkeypatch.setattr(services, "payment_execute_transaction", original)
    client.force_login(finance)
    client.post(
        "/admin/gamarriando/deadletter/", {"action": "retry", "_selected_action": [letter.pk]}
    )
    letter.refresh_from_db()
    assert letter.status == "retried"
    assert Payment.objects.get(pk=payment.pk).status == "completed"


def test_logs_redact_card_numbers_and_secrets(api, customer):
    import io
    import logging

    import structlog

    from gamarriando.logging import json_formatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    logging.getLogger().addHandler(handler)
    try:
        api(customer).post("/api/v1/orders", {"notes": "4242 4242 4242 4242"}, format="json")
        structlog.get_logger("test").info(
            "audit", authorization="Bearer abc.def", note="card 4000056655665556", request_id="r1"
        )
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    text = stream.getvalue()
    assert (
        "4242 4242 4242 4242" not in text
        and "4000056655665556" not in text
        and "abc.def" not in text
    )
    audit = next(line for line in lines if line["event"] == "audit")
    assert audit["authorization"] == audit["note"] == "[REDACTED]"
    assert audit["request_id"] == "r1"
    assert any(line["event"] == "card_data_refused" for line in lines)


def test_the_sweep_delivers_events_whose_commit_hook_was_lost(customer):
    from datetime import timedelta

    from django.utils import timezone

    from gamarriando.tasks import sweep_outbox

    make_order(customer, ProductFactory())
    OutboxEvent.objects.update(dispatched_at=None, created_at=timezone.now() - timedelta(minutes=5))
    assert sweep_outbox() == 1
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0
    assert sweep_outbox() == 0


def test_stored_idempotency_answers_are_purged_after_24_hours(api, customer, product, address):
    from datetime import timedelta

    from django.utils import timezone

    from gamarriando.idempotency import IdempotencyKey
    from gamarriando.tasks import purge_idempotency_keys

    body = {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": address}
    for key in ("old", "new"):
        api(customer).post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_a_worker_side_final_failure_is_dead_lettered_by_the_task_base_class():
    from payments.tasks import execute_transaction

    result = execute_transaction.apply(
        kwargs={"transaction_id": 987654}, throw=False
    )  # as a worker runs it
    assert result.failed()
    letter = DeadLetter.objects.get(task_id=result.id)
    assert (letter.task_name, letter.kwargs, letter.attempts) == (
        "payments.execute_transaction",
        {"transaction_id": 987654},
        1,
    )
    assert "DoesNotExist" in letter.error


def test_staff_redeliver_a_delivery_from_the_admin(client, finance, subscriber, customer):
    make_order(customer, ProductFactory())
    subscriber.up = True
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"  # the first try found the subscriber down
    client.force_login(finance)
    client.post(
        "/admin/notifications/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert [event["type"] for event in subscriber.received] == ["order.created"]
    assert len(subscriber.requests) == 2 and subscriber.unverified() == []


def test_support_cannot_redeliver(client, support, subscriber, customer):
    make_order(customer, ProductFactory())
    subscriber.up = True
    delivery = WebhookDelivery.objects.get()
    client.force_login(support)
    assert client.get("/admin/notifications/webhookdelivery/").status_code == 200
    client.post(
        "/admin/notifications/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )
    delivery.refresh_from_db()
    assert delivery.status == "pending"
