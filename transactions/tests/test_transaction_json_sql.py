"""PostgreSQL's rendering of a ledger row equals Python's, byte for byte (representation_sql)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Subquery
from django.test.utils import CaptureQueriesContext

from tests.helpers import make_order, make_payment
from transactions.models import Transaction
from transactions.representations import transaction_data
from transactions.selectors import rendered_rows, with_rendered
from transactions.tests.factories import TransactionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def both_ways(txn_id: int) -> tuple[str, str]:
    python = transaction_data(Transaction.objects.get(pk=txn_id))
    sql = with_rendered(Transaction.objects.filter(pk=txn_id)).get()
    assert hasattr(sql, "rendered")  # the PostgreSQL path was the one taken
    [row] = rendered_rows(Transaction.objects.filter(pk=txn_id))  # the list page's rows
    assert json.dumps(transaction_data(row)) == json.dumps(transaction_data(sql))
    return json.dumps(python), json.dumps(transaction_data(sql))


@pytest.mark.parametrize(
    ("currency", "amount", "processed_at"),
    [
        ("PEN", "12.50", None),
        ("USD", "0.01", datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)),
        ("JPY", "1200", datetime(2026, 11, 30, 12, 0, 0, 5, tzinfo=UTC)),
        ("CLP", "99999999", datetime(1999, 1, 2, 3, 4, 5, 999999, tzinfo=UTC)),
    ],
)
def test_a_ledger_row_renders_the_same_both_ways(customer, product, currency, amount, processed_at):
    # the row renders in its own currency, whatever its payment's
    payment = make_payment(customer, make_order(customer, product))
    txn = TransactionFactory(
        payment=payment,
        transaction_type="refund",
        amount=Decimal(amount),
        currency=currency,
        status="succeeded",
        reason='dañado — «caja» \u2028 "rota"',
        failure_reason="",
        gateway_transaction_id="re_123",
        created_by=customer,
        processed_at=processed_at,
    )
    python, sql = both_ways(txn.pk)
    assert sql == python
    assert json.loads(sql)["amount"] == amount


def test_the_rendering_follows_the_alias_django_gives_the_table(customer, product):
    payment = make_payment(customer, make_order(customer, product))
    mine = TransactionFactory(payment=payment, amount=Decimal("1.00"))
    other = TransactionFactory(payment=payment, amount=Decimal("2.00"))
    inner = with_rendered(Transaction.objects.filter(pk=other.pk)).values("rendered")
    outer = Transaction.objects.filter(pk=mine.pk).annotate(other=Subquery(inner[:1])).get()
    assert json.loads(outer.other)["id"] == other.pk


def test_a_ledger_page_is_one_statement_after_authentication(api, customer, product):
    payment = make_payment(customer, make_order(customer, product))
    TransactionFactory(payment=payment, amount=Decimal("1.00"))
    client = api(customer)
    with CaptureQueriesContext(connection) as context:
        response = client.get("/api/v1/transactions")
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    assert len(context.captured_queries) == 2, [q["sql"] for q in context.captured_queries]
