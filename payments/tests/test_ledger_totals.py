"""ledger_totals: every type and status of ledger row lands in its own figure, exactly."""

from decimal import Decimal

import pytest

from payments.tests.factories import PaymentFactory
from transactions.models import TransactionStatus, TransactionType
from transactions.selectors import ledger_totals
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

S, P, F = TransactionStatus.SUCCEEDED, TransactionStatus.PENDING, TransactionStatus.FAILED
T = TransactionType


def _rows(payment, *rows):
    for kind, status, amount in rows:
        TransactionFactory(
            payment=payment, transaction_type=kind, status=status, amount=Decimal(amount)
        )


def test_an_empty_ledger_sums_to_zero_and_not_voided():
    totals = ledger_totals(PaymentFactory().pk)
    assert (totals.authorized, totals.captured, totals.refunded) == (0, 0, 0)
    assert (totals.refund_pending, totals.charged_back, totals.voided) == (0, 0, False)


def test_each_figure_counts_only_its_types_and_statuses():
    payment = PaymentFactory()
    other = PaymentFactory()
    _rows(
        payment,
        (T.AUTHORIZATION, S, "100.10"),
        (T.AUTHORIZATION, F, "999.00"),
        (T.CAPTURE, S, "60.05"),
        (T.CAPTURE, P, "999.00"),
        (T.CHARGE, S, "20.01"),
        (T.CHARGE, F, "999.00"),
        (T.REFUND, S, "5.50"),
        (T.REFUND, S, "1.25"),
        (T.REFUND, P, "2.00"),
        (T.REFUND, P, "0.30"),
        (T.REFUND, F, "999.00"),
        (T.VOID, F, "100.10"),
        (T.CHARGEBACK, S, "10.00"),
        (T.CHARGEBACK_REVERSAL, S, "4.00"),
        (T.CHARGEBACK, P, "999.00"),
    )
    _rows(other, (T.CHARGE, S, "7.00"), (T.VOID, S, "7.00"))

    totals = ledger_totals(payment.pk)

    assert totals.authorized == Decimal("120.11")  # authorizations and charges
    assert totals.captured == Decimal("80.06")  # captures and charges
    assert totals.refunded == Decimal("6.75")
    assert totals.refund_pending == Decimal("2.30")
    assert totals.charged_back == Decimal("6.00")
    assert totals.voided is False  # only a failed void here; the other payment's is not ours
    assert all(
        isinstance(value, Decimal)
        for value in (totals.authorized, totals.captured, totals.refunded, totals.refund_pending)
    )
    assert ledger_totals(other.pk).voided is True


def test_reversals_beyond_the_chargebacks_never_make_the_figure_negative():
    payment = PaymentFactory()
    _rows(payment, (T.CHARGEBACK, S, "3.00"), (T.CHARGEBACK_REVERSAL, S, "5.00"))
    assert ledger_totals(payment.pk).charged_back == 0
