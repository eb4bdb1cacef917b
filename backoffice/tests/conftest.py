"""Fixtures of the back-office tests: a signed-in browser, a paid order, a failed Stripe event."""

from decimal import Decimal

import pytest
from django.utils import timezone

from orders.tests.factories import ProductFactory
from payments import tasks as payment_tasks
from payments.models import StripeWebhookEvent
from tests.helpers import make_paid


@pytest.fixture
def browser_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def paid(customer):
    product = ProductFactory(price=Decimal("80.00"), stock=10)
    return make_paid(customer, product)


@pytest.fixture
def stripe_event(monkeypatch):
    """A failed stored Stripe event; reprocessing it records its id in `event.handled`."""
    handled = []
    monkeypatch.setattr(
        payment_tasks, "stripe_event_process", lambda event_id: handled.append(event_id)
    )
    event = StripeWebhookEvent.objects.create(
        id="evt_failed2",
        type="refund.updated",
        stripe_created=timezone.now(),
        payload={},
        status="failed",
        last_error="boom",
    )
    event.handled = handled
    return event
