"""Dead letters: a task that fails for good is kept, and staff can retry it."""

from decimal import Decimal

import pytest

from gamarriando.dead_letters import DeadLetter
from orders.tests.factories import ProductFactory
from tests.helpers import make_order

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_task_that_fails_for_good_leaves_a_dead_letter_that_staff_can_retry(
    client, customer, finance, monkeypatch
):
    from payments import services
    from payments.models import Payment
    from payments.services import payment_process
    from tests.helpers import make_payment

    payment = make_payment(
        customer, make_order(customer, ProductFactory(price=Decimal("12.00"), stock=5))
    )
    original = services.payment_execute_transaction

    def broken(**kwargs):
        raise RuntimeError("worker bug")

    monkeypatch.setattr(services, "payment_execute_transaction", broken)
    payment_process(payment_id=payment.pk, actor=customer, payment_method_id="tok_success")
    letter = DeadLetter.objects.get()
    assert letter.task_name == "payments.execute_transaction"
    assert "worker bug" in letter.error
    assert letter.status == "open"
    monkeypatch.setattr(services, "payment_execute_transaction", original)
    client.force_login(finance)
    client.post(
        "/admin/gamarriando/deadletter/", {"action": "retry", "_selected_action": [letter.pk]}
    )
    letter.refresh_from_db()
    assert letter.status == "retried"
    assert Payment.objects.get(pk=payment.pk).status == "completed"


def test_a_worker_side_final_failure_is_dead_lettered_by_the_task_base_class():
    from payments.tasks import execute_transaction

    result = execute_transaction.apply(
        kwargs={"transaction_id": 987654}, throw=False
    )  # as a worker runs it
    assert result.failed()
    letter = DeadLetter.objects.get(task_id=result.id)
    assert (letter.task_name, letter.kwargs, letter.attempts) == (
        "payments.execute_transaction",
        {"transaction_id": 987654},
        1,
    )
    assert "DoesNotExist" in letter.error
