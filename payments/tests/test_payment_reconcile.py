"""Reconciliation of unsettled gateway answers on the janitor's schedule."""

import pytest

from payments.tasks import reconcile_pending
from payments.tests.helpers import charges, process
from tests.helpers import make_order, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_timeout_stays_processing_until_reconciliation_finds_the_charge(api, customer, product):
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    body = process(api(customer), payment.pk, "tok_timeout").json()
    assert body["status"] == "processing"
    assert reconcile_pending() == 1
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == "completed"
    assert order.status == "paid"
    assert charges() == 1
    assert reconcile_pending() == 0


def test_pending_rows_are_asked_again_on_the_janitor_schedule(customer, product):
    from datetime import timedelta

    from django.utils import timezone

    payment = make_payment(customer, make_order(customer, product))
    from payments.services import payment_process

    payment_process(payment_id=payment.pk, actor=customer, payment_method_id="tok_requires_action")
    row = Transaction.objects.get()
    gaps = []
    for _ in range(5):
        Transaction.objects.filter(pk=row.pk).update(
            next_reconcile_at=timezone.now() - timedelta(seconds=1)
        )
        before = timezone.now()
        reconcile_pending()
        row.refresh_from_db()
        gaps.append(round((row.next_reconcile_at - before).total_seconds() / 60))
    assert gaps == [1, 5, 60, 1440, 1440]
    assert row.status == "pending"  # the customer never authenticated; nothing was guessed


def test_the_janitor_sends_one_task_per_row_and_overlapping_runs_take_none_twice(
    api, customer, product, use_broker
):
    from kombu.transport.memory import Channel

    for _ in range(3):
        payment = make_payment(customer, make_order(customer, product))
        assert process(api(customer), payment.pk, "tok_timeout").json()["status"] == "processing"
    use_broker("memory://")  # queued for the workers, not run here
    Channel.queues.pop("payments", None)
    assert reconcile_pending() == 3
    assert reconcile_pending() == 0  # a second run while the first's tasks wait: nothing
    queued = Channel.queues["payments"]
    assert queued.qsize() == 3  # one task per row: the workers share the gateway calls
    assert set(Transaction.objects.values_list("reconcile_attempts", "status")) == {(1, "pending")}


def test_a_janitor_run_that_cannot_send_gives_the_rows_their_turn_back(
    api, customer, product, use_broker
):
    for _ in range(2):
        payment = make_payment(customer, make_order(customer, product))
        assert process(api(customer), payment.pk, "tok_timeout").json()["status"] == "processing"
    before = set(Transaction.objects.values_list("pk", "reconcile_attempts", "next_reconcile_at"))
    use_broker("redis://127.0.0.1:1/0")  # nothing listens: every send fails
    assert reconcile_pending() == 0
    # Nothing was asked, so the schedule did not move on (else an outage pushes rows to a day).
    after = set(Transaction.objects.values_list("pk", "reconcile_attempts", "next_reconcile_at"))
    assert after == before
