"""A lost enqueue loses no money: the outbox sweep and the janitor finish what the broker dropped."""

from datetime import timedelta
from decimal import Decimal

import kombu.pools
import pytest
from django.utils import timezone

from gamarriando.celery import app as celery_app
from gamarriando.events import OutboxEvent
from gamarriando.tasks import sweep_outbox
from orders.services import order_cancel
from orders.tests.factories import ProductFactory
from payments.models import Payment, SimulatedGatewayOperation
from payments.services import payment_process
from payments.tasks import reconcile_pending
from tests.helpers import make_order, make_paid, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


class BrokerOutage:
    """Break the enqueue after commit in one of the two ways seen in production and CI."""

    def __init__(self, mode: str, use_broker):
        self.mode, self.use_broker = mode, use_broker

    def start(self) -> None:
        if self.mode == "broker_down":
            self.use_broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
        else:
            celery_app.pool.force_close_all()  # "Acquire on closed pool" on every later send

    def end(self) -> None:
        """Return to the test settings' inline broker, with fresh connection pools."""
        celery_app.conf.changes.pop("broker_url", None)
        celery_app.conf.changes.pop("task_always_eager", None)
        kombu.pools.reset()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        assert celery_app.conf.task_always_eager


@pytest.fixture(params=["broker_down", "pool_closed"])
def outage(request, use_broker):
    return BrokerOutage(request.param, use_broker)


def _gateway_calls(payment: Payment, kind: str) -> int:
    return SimulatedGatewayOperation.objects.filter(
        idempotency_key__startswith=f"payment-{payment.pk}-", kind=kind
    ).count()


def test_the_sweep_refunds_a_cancelled_order_whose_event_was_never_sent(customer, outage):
    order, payment = make_paid(customer, ProductFactory(price=Decimal("40.00"), stock=5))
    assert payment.status == "completed"
    outage.start()

    order_cancel(order_id=order.pk, actor=customer)  # order.cancelled is written, never sent
    event = OutboxEvent.objects.get(type="order.cancelled", order_id=order.pk)
    assert event.dispatched_at is None
    assert not Transaction.objects.filter(payment=payment, transaction_type="refund").exists()

    outage.end()
    assert sweep_outbox() == 0  # younger than the sweep's 30 s grace: still owned by its task
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert sweep_outbox() >= 1

    payment.refresh_from_db()
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert payment.status == "refunded"
    assert payment.refunded_amount == Decimal("40.00")
    assert _gateway_calls(payment, "refund") == 1
    sweep_outbox()
    assert _gateway_calls(payment, "refund") == 1  # a second sweep refunds nothing more


def test_the_janitor_charges_exactly_once_a_payment_whose_charge_was_never_sent(customer, outage):
    order = make_order(customer, ProductFactory(price=Decimal("25.00"), stock=5))
    payment = make_payment(customer, order)
    outage.start()

    processing = payment_process(
        payment_id=payment.pk, actor=customer, payment_method_id="tok_success"
    )
    assert processing.status == "processing"
    assert _gateway_calls(payment, "charge") == 0  # the worker never heard of it

    outage.end()
    reconcile_pending()
    reconcile_pending()

    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == "completed"
    assert payment.captured_amount == Decimal("25.00")
    assert order.status == "paid"
    assert _gateway_calls(payment, "charge") == 1
    assert Transaction.objects.filter(payment=payment, transaction_type="charge").count() == 1
