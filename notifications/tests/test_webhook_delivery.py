"""Outgoing webhook deliveries: retries in order, and an endpoint that keeps failing is disabled."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.services import delivery_attempt
from notifications.tasks import retry_due_deliveries
from orders.tests.factories import ProductFactory
from tests.helpers import make_order, make_paid
from tests.threads import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)


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


def _sweep_due():
    WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    retry_due_deliveries()


def test_an_endpoint_down_for_minutes_stays_on_and_one_down_for_a_day_is_disabled(
    subscriber, customer, mailoutbox, settings, monkeypatch, superuser, client
):
    from notifications import services

    settings.ADMINS = [("Ops", "ops@gamarriando.pe")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setattr(services, "DISABLE_AFTER_FAILURES", 3)
    first = make_order(customer, ProductFactory())  # order.created: refused while down
    for _ in range(3):
        _sweep_due()
    sub = WebhookSubscription.objects.get()
    # Four failures within minutes (a deploy, a short outage under traffic): still on.
    assert (sub.is_active, sub.consecutive_failures) == (True, 4)
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=True):
        _sweep_due()  # still failing a whole delivery window later: disabled, admins told
        sub.refresh_from_db()
        assert sub.is_active is False and sub.disabled_at is not None
        assert any("Webhook endpoint disabled" in mail.subject for mail in mailoutbox)
        # While it is off, its events are kept for it and nothing is posted to it.
        subscriber.requests.clear()
        second = make_order(customer, ProductFactory())
        _sweep_due()
        assert subscriber.requests == []
        kept = WebhookDelivery.objects.get(event__order_id=second.pk)
        assert (kept.status, kept.attempts) == ("pending", 0)
        # Fixed and switched back on in the admin: what it missed is sent, once, in order.
        subscriber.up = True
        client.force_login(superuser)
        client.post(
            f"/admin/notifications/webhooksubscription/{sub.pk}/change/",
            {"url": sub.url, "event_types": "[]", "is_active": "on"},
        )
        retry_due_deliveries()
        retry_due_deliveries()
    assert [(e["type"], e["data"]["order_id"]) for e in subscriber.received] == [
        ("order.created", second.pk)
    ]
    # The first order's event ran out of its 24 hours: given up, for a staff redeliver.
    assert WebhookDelivery.objects.get(event__order_id=first.pk).status == "gave_up"
    sub.refresh_from_db()
    assert (sub.consecutive_failures, sub.failing_since) == (0, None)


def test_a_success_ends_the_failing_streak(subscriber, customer, monkeypatch):
    from notifications import services

    monkeypatch.setattr(services, "DISABLE_AFTER_FAILURES", 2)
    make_order(customer, ProductFactory())
    _sweep_due()
    assert WebhookSubscription.objects.get().failing_since is not None
    subscriber.up = True
    _sweep_due()
    sub = WebhookSubscription.objects.get()
    assert (sub.is_active, sub.consecutive_failures, sub.failing_since) == (True, 0, None)
    subscriber.up = False
    with time_machine.travel(timezone.now() + timedelta(hours=30), tick=True):
        make_order(customer, ProductFactory())
        _sweep_due()  # two failures, but the streak began just now: not a day of failing
        sub.refresh_from_db()
        assert (sub.is_active, sub.consecutive_failures) == (True, 2)


def test_two_attempts_at_one_delivery_post_it_once_and_count_it_once(subscriber, customer):
    make_order(customer, ProductFactory())
    delivery = WebhookDelivery.objects.get()  # order.created, refused while the endpoint was down
    subscriber.requests.clear()
    subscriber.up = True
    # Not due yet: a queued attempt waits for the backoff rather than posting again.
    assert delivery_attempt(delivery_id=delivery.pk) == "pending"
    assert subscriber.requests == []
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())  # the backoff has elapsed
    answer = subscriber.receive

    def slow(headers, body):
        time.sleep(0.5)  # both attempts start while the first POST is still in flight
        return answer(headers, body)

    subscriber.receive = slow
    run_concurrently(2, lambda _: delivery_attempt(delivery_id=delivery.pk))
    delivery.refresh_from_db()
    assert len(subscriber.requests) == 1
    assert (delivery.status, delivery.attempts, delivery.claimed_until) == ("succeeded", 2, None)
    assert list(delivery.attempt_log.values_list("status_code", flat=True).order_by("pk")) == [
        503,
        200,
    ]
