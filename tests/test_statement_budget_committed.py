"""Statement budgets and answers of paths that need their work committed (a worker's, a broker's).

Counted as tests/test_statement_budget.py counts them.
"""

import pytest

from payments.services import payment_execute_transaction, payment_process
from tests.helpers import make_order, make_payment
from tests.test_statement_budget import post, statements
from transactions.models import Transaction

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
CHARGE_SETTLE_BUDGET = 13  # the row's read, the gateway's own record, the settle transaction


def test_the_workers_charge_settles_within_budget(customer, product, use_broker):
    """The worker's side of a checkout: the gateway call and the settle of its ledger row."""
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    use_broker("redis://127.0.0.1:1/0")  # nothing listens: the charge stays for this test to run
    payment_process(payment_id=payment.pk, actor=customer, payment_method_id="tok_success")
    row = Transaction.objects.get(payment=payment)

    _, sql = statements(lambda: payment_execute_transaction(transaction_id=row.pk))

    assert len(sql) <= CHARGE_SETTLE_BUDGET, "\n".join(sql)
    row.refresh_from_db()
    assert row.status == "succeeded"


@pytest.mark.parametrize("first", ["tok_declined", None])
def test_process_with_a_broker_answers_what_a_read_answers(
    api, customer, product, use_broker, first
):
    """Rendered from the payment in hand (it never took money): GET's bytes, also on a retry."""
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    client = api(customer)
    path = f"/api/v1/payments/{payment.pk}/process"
    if first:  # inline, as the storefront's first try that was declined
        assert post(client, path, {"payment_method_id": first}).json()["status"] == "failed"
    use_broker("redis://127.0.0.1:1/0")  # nothing listens: the charge stays processing
    response, sql = statements(lambda: post(client, path, {"payment_method_id": "tok_success"}))
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "processing"
    assert response.content == client.get(f"/api/v1/payments/{payment.pk}").content
    assert not any("SUM(" in q for q in sql)  # the ledger's figures were not read back
