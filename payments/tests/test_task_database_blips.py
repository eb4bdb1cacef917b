"""A worker's task that loses PostgreSQL retries soon instead of waiting for the janitor."""

import pytest
from django.db import OperationalError, connection

from gamarriando.queue import TASK_RETRIES
from payments.services import payment_process
from payments.tasks import MAX_RETRIES, execute_transaction
from tests.helpers import make_order, make_payment
from transactions.models import Transaction

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def retries() -> float:
    return TASK_RETRIES.labels("payments.execute_transaction")._value.get()


def test_a_charge_that_cannot_reach_the_database_is_retried(customer, product, use_broker):
    payment = make_payment(customer, make_order(customer, product))
    use_broker("memory://")  # the charge is queued for a worker, not run here
    payment_process(payment_id=payment.pk, actor=customer, payment_method_id="tok_success")
    row = Transaction.objects.get(payment=payment)
    before, port = retries(), connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # PostgreSQL gone: nothing listens there
    try:
        with pytest.raises(OperationalError):
            execute_transaction.apply(kwargs={"transaction_id": row.pk}, throw=True)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert retries() - before == MAX_RETRIES  # retried with backoff, then a dead letter
    row.refresh_from_db()
    assert row.status == "pending"  # nothing half-written; the next try settles it
    execute_transaction.apply(kwargs={"transaction_id": row.pk}, throw=True)
    row.refresh_from_db()
    payment.refresh_from_db()
    assert (row.status, payment.status) == ("succeeded", "completed")
