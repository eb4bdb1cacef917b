"""The outbox: an event is published only on commit, and the sweep sends what a lost hook left."""

import pytest
from django.db import transaction

from gamarriando.events import OutboxEvent
from orders.services import order_create
from orders.tests.factories import ProductFactory
from tests.helpers import make_order

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_the_sweep_delivers_events_whose_commit_hook_was_lost(customer):
    from datetime import timedelta

    from django.utils import timezone

    from gamarriando.tasks import sweep_outbox

    make_order(customer, ProductFactory())
    OutboxEvent.objects.update(dispatched_at=None, created_at=timezone.now() - timedelta(minutes=5))
    assert sweep_outbox() == 1
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0
    assert sweep_outbox() == 0
