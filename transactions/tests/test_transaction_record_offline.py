"""POST /transactions: offline records by Finance, under the ledger's rules."""

from decimal import Decimal

import pytest

from tests.helpers import make_order, make_paid, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def record(client, **body):
    return client.post("/api/v1/transactions", body, format="json")


def test_finance_records_a_dashboard_refund_under_ledger_rules(api, customer, finance, product):
    order, payment = make_paid(customer, product)
    response = record(
        api(finance),
        payment_id=payment.pk,
        transaction_type="refund",
        amount="50.00",
        gateway_transaction_id="re_dashboard_1",
        reason="refunded in the dashboard",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "succeeded"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("50.00"))
    assert order.status == "refunded"
    duplicate = record(
        api(finance), payment_id=payment.pk, transaction_type="refund", amount="1", reason="again"
    )
    assert duplicate.json()["error"]["code"] == "ALREADY_REFUNDED"


def test_offline_charge_settles_a_pending_payment(api, customer, finance, product):
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    response = record(
        api(finance),
        payment_id=payment.pk,
        transaction_type="charge",
        amount="50",
        gateway_transaction_id="bank-001",
        reason="bank transfer",
    )
    assert response.status_code == 201
    order.refresh_from_db()
    assert order.status == "paid"
    reused = record(
        api(finance),
        payment_id=payment.pk,
        transaction_type="refund",
        amount="1",
        gateway_transaction_id="bank-001",
        reason="x",
    )
    assert reused.status_code == 201  # the same reference under another type is another operation
    dup = record(
        api(finance),
        payment_id=payment.pk,
        transaction_type="refund",
        amount="1",
        gateway_transaction_id="bank-001",
        reason="x",
    )
    assert dup.status_code == 400
    assert "gateway_transaction_id" in dup.json()["error"]["details"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"transaction_type": "refund", "amount": "50.01"}, 409, "REFUND_EXCEEDS_REFUNDABLE"),
        ({"transaction_type": "charge", "amount": "1"}, 409, "INVALID_STATUS"),
        ({"transaction_type": "capture", "amount": "1"}, 409, "INVALID_STATUS"),
        ({"transaction_type": "void", "amount": "1"}, 409, "INVALID_STATUS"),
        ({"transaction_type": "refund", "amount": "-1"}, 400, "VALIDATION_ERROR"),
        ({"transaction_type": "gift", "amount": "1"}, 400, "VALIDATION_ERROR"),
    ],
)
def test_offline_records_obey_the_ledger_rules(api, customer, finance, product, body, status, code):
    _, payment = make_paid(customer, product)
    response = record(api(finance), payment_id=payment.pk, reason="test", **body)
    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert Transaction.objects.count() == 1


def test_only_finance_records_and_unknown_payment_is_a_field_error(
    api, customer, support, finance, product
):
    _, payment = make_paid(customer, product)
    for user in (customer, support):
        response = record(
            api(user), payment_id=payment.pk, transaction_type="refund", amount="1", reason="x"
        )
        assert response.status_code == 403
    missing = record(
        api(finance), payment_id=999999, transaction_type="refund", amount="1", reason="x"
    )
    assert missing.status_code == 400
    assert list(missing.json()["error"]["details"]) == ["payment_id"]


def test_a_recorded_charge_never_pays_an_order_twice(api, customer, finance, product):
    order = make_order(customer, product)
    failed = make_payment(customer, order)
    client = api(customer)
    client.post(
        f"/api/v1/payments/{failed.pk}/process",
        {"payment_method_id": "tok_declined"},
        format="json",
    )
    other = make_payment(customer, order)  # pending: it holds the whole balance
    charge = {"transaction_type": "charge", "amount": str(order.total_amount), "reason": "bank"}
    covered = record(api(finance), payment_id=failed.pk, **charge)
    assert covered.status_code == 400, covered.json()
    assert covered.json()["error"]["code"] == "AMOUNT_MISMATCH"
    assert covered.json()["error"]["details"] == {"balance_due": "0.00"}
    client.post(
        f"/api/v1/payments/{other.pk}/process", {"payment_method_id": "tok_success"}, format="json"
    )
    order.refresh_from_db()
    assert order.status == "paid"
    settled = record(api(finance), payment_id=failed.pk, **charge)
    assert settled.status_code == 409, settled.json()
    assert settled.json()["error"]["code"] == "INVALID_STATUS"
    order.refresh_from_db()
    assert order.amount_paid == order.total_amount
    assert not Transaction.objects.filter(payment=failed, status="succeeded").exists()
