"""A subscription's bad row never stops the outbox; deliveries keep each order's event order."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from gamarriando.events import OutboxEvent
from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.services import deliveries_create, delivery_attempt
from notifications.tests.factories import WebhookSubscriptionFactory
from orders.services import order_cancel
from orders.tests.factories import ProductFactory
from tests.helpers import make_paid

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_malformed_subscription_stops_neither_the_refunds_nor_the_other_subscribers(
    subscriber, customer
):
    subscriber.up = True
    WebhookSubscriptionFactory(event_types=5)  # written past the admin form, e.g. by a script
    order, payment = make_paid(customer, ProductFactory(price=Decimal("20.00"), stock=5))
    order_cancel(order_id=order.pk, actor=customer, reason="changed my mind")
    payment.refresh_from_db()
    assert payment.status == "refunded"  # the cancellation's refund ran
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert "order.cancelled" in [event["type"] for event in subscriber.received]


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("5", "A list of event types"),
        ('"order.paid"', "A list of event types"),
        ('{"a": 1}', "A list of event types"),
        ('["order.payed"]', "Unknown event types: order.payed."),
    ],
)
def test_the_admin_form_takes_only_a_list_of_known_event_types(client, superuser, typed, error):
    client.force_login(superuser)
    page = client.post(
        "/admin/notifications/webhooksubscription/add/",
        {"url": "https://hooks.example.com/x", "event_types": typed, "is_active": "on"},
    )
    assert page.status_code == 200 and error in page.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_a_late_dispatched_event_is_still_delivered_before_the_orders_later_ones(subscriber):
    subscriber.up = True
    subscription = WebhookSubscription.objects.get()
    now = timezone.now()
    earlier = OutboxEvent.objects.create(
        type="order.paid", data={"order_id": 7}, order_id=7, created_at=now - timedelta(seconds=5)
    )
    later = OutboxEvent.objects.create(
        type="order.cancelled", data={"order_id": 7}, order_id=7, created_at=now
    )
    # The earlier event's handler failed once: the later one is dispatched first.
    dispatch_event_alone(later)
    assert subscriber.received == []  # it waits behind the undispatched earlier event
    dispatch_event_alone(earlier)  # its success hands over to the later one
    assert [event["type"] for event in subscriber.received] == ["order.paid", "order.cancelled"]
    queue = WebhookDelivery.objects.filter(subscription=subscription).order_by("created_at")
    assert [d.event_id for d in queue] == [earlier.pk, later.pk]
    assert queue[0].created_at == earlier.created_at


def test_an_event_whose_data_names_no_order_still_joins_its_orders_queue():
    WebhookSubscriptionFactory()
    event = OutboxEvent.objects.create(
        type="wallet.funds_reserved", data={"wallet_id": 1, "payment_id": 3}, order_id=42
    )
    deliveries_create(event.handled())
    assert WebhookDelivery.objects.get(event=event).order_id == 42


def test_switching_an_endpoint_back_on_starts_its_failure_count_afresh(client, superuser):
    subscription = WebhookSubscriptionFactory(
        url="https://hooks.example.com/x",
        is_active=False,
        consecutive_failures=41,
        disabled_at=timezone.now(),
    )
    client.force_login(superuser)
    client.post(
        f"/admin/notifications/webhooksubscription/{subscription.pk}/change/",
        {"url": subscription.url, "event_types": "[]", "is_active": "on"},
    )
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.consecutive_failures) == (True, 0)
    assert subscription.disabled_at is None


def dispatch_event_alone(event):
    """What dispatch does for one event: marked dispatched, its deliveries made and sent."""
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=timezone.now())
    deliveries_create(event.handled())  # each is sent on commit (inline in the tests)
    for delivery in WebhookDelivery.objects.filter(event=event):
        delivery_attempt(delivery_id=delivery.pk)  # and again: a sent one is not sent twice
