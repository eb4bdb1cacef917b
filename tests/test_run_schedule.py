"""manage.py run_schedule: the beat's tasks, run once in the demo, expire what is due."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command

from gamarriando.celery import app
from orders import services as order_services
from orders.models import Order
from orders.tests.factories import ProductFactory
from tests.helpers import make_order

pytestmark = pytest.mark.django_db(transaction=True)


def test_run_schedule_runs_every_periodic_task_once_and_expires_a_due_order(customer):
    product = ProductFactory(stock=5)
    order = make_order(customer, product, quantity=2)
    Order.objects.filter(pk=order.pk).update(expires_at=order.created_at - timedelta(minutes=1))
    out = io.StringIO()
    call_command("run_schedule", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == list(app.conf.beat_schedule)
    assert all(": ok" in line for line in lines), lines
    order.refresh_from_db()
    product.refresh_from_db()
    assert (order.status, product.stock) == ("cancelled", 5)


def test_a_failing_task_is_reported_and_the_others_still_run(customer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("expiry is broken")

    monkeypatch.setattr(order_services, "order_expire_unpaid", broken)
    out = io.StringIO()
    call_command("run_schedule", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(app.conf.beat_schedule)
    assert lines[0].startswith("expire-unpaid-orders: failed") and "expiry is broken" in lines[0]
    assert all(": ok" in line for line in lines[1:]), lines
