"""Redelivering a webhook from the admin: staff with the permission may, Support may not."""

import pytest

from notifications.models import WebhookDelivery
from orders.tests.factories import ProductFactory
from tests.helpers import make_order

pytestmark = pytest.mark.django_db(transaction=True)


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
