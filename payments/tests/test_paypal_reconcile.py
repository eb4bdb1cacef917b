"""PayPal reconciliation: the janitor for lost answers, and `manage.py reconcile_paypal`."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from payments.gateways.base import GatewayTimeout
from payments.services import payment_execute_transaction, payment_refund
from payments.tasks import reconcile_pending
from payments.tests.test_paypal_flow import paypal_payment, process, start
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def paid(api, customer, fake, **kwargs):
    order, payment, order_id = start(api, customer, fake, **kwargs)
    fake.approve(order_id)
    assert process(api(customer), payment).json()["status"] == "completed"
    [capture] = fake.captures_of(order_id)
    return payment, order_id, capture


def reconcile(*args):
    out = StringIO()
    call_command("reconcile_paypal", "--since", "2020-01-01", *args, stdout=out)
    return out.getvalue()


def test_a_lost_refund_answer_is_settled_by_the_janitor_with_one_refund(
    api, customer, finance, fake_paypal, monkeypatch
):
    payment, _, capture = paid(api, customer, fake_paypal, price="100.00")
    # Keep the refund's worker from running inline: the test plays it, and loses its answer.
    monkeypatch.setattr("payments.services.ledger_core.enqueue_on_commit", lambda *a, **k: None)
    payment_refund(payment_id=payment.pk, actor=finance, amount=Decimal("40.00"), reason="r")
    row = Transaction.objects.get(payment=payment, transaction_type="refund")
    fake_paypal.drop_next_post = 1
    with pytest.raises(GatewayTimeout):
        payment_execute_transaction(transaction_id=row.pk)
    assert len(fake_paypal.refunds) == 1
    row.refresh_from_db()
    assert row.status == "pending"
    reconcile_pending()
    row.refresh_from_db()
    assert (row.status, row.gateway_transaction_id) == (
        "succeeded",
        next(iter(fake_paypal.refunds)),
    )
    assert len(fake_paypal.refunds) == 1  # the re-send got PayPal's first answer
    assert fake_paypal.refunds[row.gateway_transaction_id]["capture_id"] == capture["id"]
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("40.00"))


def test_the_command_reports_then_repairs_a_dashboard_refund(api, customer, fake_paypal):
    payment, _, capture = paid(api, customer, fake_paypal, price="100.00")
    assert "no differences" in reconcile()
    refund = fake_paypal.dashboard_refund(capture["id"], "25.00")  # its webhook never came
    dry = reconcile("--dry-run")
    assert f"unmatched: {refund['id']} is not in our ledger" in dry
    assert not Transaction.objects.filter(transaction_type="refund").exists()
    repaired = reconcile()
    assert f"recorded refund 25.00 ({refund['id']})" in repaired
    assert "no differences" in reconcile()
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("25.00"))
    assert Transaction.objects.filter(transaction_type="refund").count() == 1


def test_the_command_records_a_capture_made_in_paypal(api, customer, fake_paypal):
    _, payment = paypal_payment(customer)
    order_id = process(api(customer), payment, capture=False).json()["gateway_transaction_id"]
    fake_paypal.approve(order_id)
    assert process(api(customer), payment).json()["status"] == "authorized"
    [auth] = fake_paypal.authorizations.values()
    status, _ = fake_paypal.capture_authorization(auth["id"], {})  # captured in PayPal
    assert status == 201
    assert "recorded capture 59.98" in reconcile()
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("completed", Decimal("59.98"))
