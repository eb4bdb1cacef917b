"""Outgoing webhook deliveries: retries in order, and an endpoint that keeps failing is disabled."""

import time
from decimal import Decimal

import pytest
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
