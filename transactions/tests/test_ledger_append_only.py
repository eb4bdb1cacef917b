"""The ledger is append-only: the model refuses deletes; the database trigger refuses rewrites of settled rows."""

from decimal import Decimal

import pytest
from django.db import DatabaseError

from tests.helpers import make_order, make_paid, make_payment
from transactions.models import LedgerRowImmutable, Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_ledger_rows_cannot_be_deleted_through_the_model(customer, product):
    _, payment = make_paid(customer, product)
    row = Transaction.objects.get(payment=payment)
    with pytest.raises(LedgerRowImmutable):
        row.delete()
    row.refresh_from_db()
    assert (row.amount, row.status) == (Decimal("50.00"), "succeeded")


@pytest.mark.postgres
def test_the_database_trigger_refuses_to_rewrite_or_delete_a_settled_row(customer, product):
    _, payment = make_paid(customer, product)
    row = Transaction.objects.get(payment=payment)
    with pytest.raises(DatabaseError):
        Transaction.objects.filter(pk=row.pk).update(amount=Decimal("1.00"))
    with pytest.raises(DatabaseError):
        Transaction.objects.filter(pk=row.pk).update(status="failed")
    with pytest.raises(DatabaseError):
        Transaction.objects.filter(pk=row.pk).delete()
    row.refresh_from_db()
    assert (row.amount, row.status) == (Decimal("50.00"), "succeeded")


@pytest.mark.postgres
def test_the_database_trigger_lets_a_pending_row_settle_once(customer, product):
    row = TransactionFactory(payment=make_payment(customer, make_order(customer, product)))
    Transaction.objects.filter(pk=row.pk).update(status="succeeded", gateway_transaction_id="ch_1")
    with pytest.raises(DatabaseError):
        Transaction.objects.filter(pk=row.pk).update(status="failed")
    row.refresh_from_db()
    assert (row.status, row.gateway_transaction_id) == ("succeeded", "ch_1")
