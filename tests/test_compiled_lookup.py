"""gamarriando.compiled: a lookup compiled once reads what the ORM reads, and locks as it locks."""

import threading
import time
from functools import partial

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from gamarriando.compiled import Lookup
from orders.models import Order
from orders.services import lock_order
from payments import selectors
from payments.models import Payment
from payments.services.ledger_core import _PAYMENT_FOR_UPDATE, _ROW_AND_PAYMENT_FOR_UPDATE
from payments.tests.factories import PaymentFactory
from tests.factories import UserFactory
from tests.helpers import make_order
from tests.threads import run_concurrently
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

CUSTOMERS_PAYMENT = Lookup(
    lambda pk, user_id: Payment.objects.filter(pk=pk, order__user_id=user_id), arity=2
)


def _columns(row):
    return [getattr(row, field.attname) for field in type(row)._meta.concrete_fields]


def test_a_two_value_lookup_reads_the_orm_row_and_only_the_owners(customer, product):
    payment = PaymentFactory(order__user=customer, order__product=product, metadata={"a": "1"})
    found = CUSTOMERS_PAYMENT.get(payment.pk, customer.pk)
    assert _columns(found) == _columns(Payment.objects.get(pk=payment.pk))
    assert found._state.adding is False and found._state.db == "default"
    assert CUSTOMERS_PAYMENT.get(payment.pk, UserFactory().pk) is None
    assert CUSTOMERS_PAYMENT.get(payment.pk + 1000, customer.pk) is None


def test_every_call_reads_the_row_again(customer, product):
    payment = PaymentFactory(order__user=customer, order__product=product)
    assert CUSTOMERS_PAYMENT.get(payment.pk, customer.pk).failure_code == ""
    Payment.objects.filter(pk=payment.pk).update(failure_code="card_declined")
    assert CUSTOMERS_PAYMENT.get(payment.pk, customer.pk).failure_code == "card_declined"


def test_payment_in_scope_matches_payment_scope(customer, finance, product):
    payment = PaymentFactory(order__user=customer, order__product=product)
    stranger = UserFactory()
    for user in (customer, finance, stranger):
        expected = selectors.payment_scope(user).filter(pk=payment.pk).first()
        found = selectors.payment_in_scope(user, payment.pk)
        assert (found and found.pk) == (expected and expected.pk)
    assert selectors.payment_in_scope(stranger, payment.pk) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_locking_lookup_outside_a_transaction_is_refused_as_the_orm_refuses_it():
    locking = Lookup(lambda pk: Order.objects.select_for_update().filter(pk=pk))
    with pytest.raises(TransactionManagementError):
        Order.objects.select_for_update().filter(pk=1).first()
    with transaction.atomic():
        assert locking.get(1) is None  # inside one it runs (and is compiled)
    with pytest.raises(TransactionManagementError):
        locking.get(1)  # the compiled statement is not run without one either


def test_select_related_rows_come_as_the_orm_builds_them(customer, product):
    payment = PaymentFactory(order__user=customer, order__product=product)
    row = TransactionFactory(payment=payment)
    lookup = Lookup(
        lambda pk: Transaction.objects.select_related("payment__order__user").filter(pk=pk)
    )
    found = lookup.get(row.pk)
    expected = Transaction.objects.select_related("payment__order__user").get(pk=row.pk)
    with CaptureQueriesContext(connection) as queries:
        for mine, theirs in [
            (found, expected),
            (found.payment, expected.payment),
            (found.payment.order, expected.payment.order),
            (found.payment.order.user, expected.payment.order.user),
        ]:
            assert _columns(mine) == _columns(theirs)
    assert not queries.captured_queries  # the related rows came with the one statement


def test_annotations_and_other_parameters_are_refused():
    with pytest.raises(RuntimeError, match="annotations"):
        Lookup(lambda pk: Payment.objects.annotate(n=Count("transactions")).filter(pk=pk)).get(1)
    with pytest.raises(RuntimeError, match="parameters"):
        Lookup(lambda pk: Payment.objects.filter(pk=pk, status="pending")).get(1)


def _second_locker_waits(first_lock, second_lock) -> bool:
    """Hold first_lock in one thread; tell whether second_lock, in another, waited for it."""
    held = threading.Event()
    released_at = []

    def work(index):
        if index == 0:
            with transaction.atomic():
                first_lock()
                held.set()
                time.sleep(0.5)
                released_at.append(time.monotonic())
            return None
        assert held.wait(10)
        with transaction.atomic():
            second_lock()
            return time.monotonic()

    _, locked_at = run_concurrently(2, work)
    if isinstance(locked_at, Exception):
        raise locked_at
    return locked_at >= released_at[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_compiled_locks_make_a_second_locker_wait(customer, product):
    order = make_order(customer, product)
    payment = PaymentFactory(order=order, amount=order.total_amount)
    row = TransactionFactory(payment=payment)
    lock_the_order = partial(lock_order, order.pk)
    lock_payment = partial(_PAYMENT_FOR_UPDATE.get, payment.pk)
    lock_row_and_payment = partial(_ROW_AND_PAYMENT_FOR_UPDATE.get, row.pk, payment.pk)
    assert _second_locker_waits(lock_the_order, lock_the_order)
    assert _second_locker_waits(lock_payment, lock_payment)
    assert _second_locker_waits(lock_row_and_payment, lock_payment)  # its payment is locked too
    assert not _second_locker_waits(lock_the_order, lock_payment)  # the test can tell them apart
