"""Refunds through the API: who may refund, how much, and what the ledger and order show."""

from decimal import Decimal

import pytest

from gamarriando.events import OutboxEvent
from payments.gateways.simulated import SimulatedGateway
from payments.models import SimulatedGatewayOperation
from tests.helpers import make_order, make_paid, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def refund(client, payment_id, **body):
    return client.post(f"/api/v1/payments/{payment_id}/refund", body, format="json")


def gateway_refunds():
    return SimulatedGatewayOperation.objects.filter(kind="refund").count()


def test_finance_partial_then_full_refund(api, customer, finance, product):
    order, payment = make_paid(customer, product, quantity=2)
    first = refund(api(finance), payment.pk, amount="30.00", reason="damaged item")
    assert first.status_code == 202, first.json()
    assert first.json()["payment"]["status"] == "partially_refunded"
    assert first.json()["payment"]["refundable_amount"] == "70.00"
    assert first.json()["transaction"]["transaction_type"] == "refund"
    assert first.json()["transaction"]["status"] == "succeeded"
    assert first.json()["transaction"]["created_by"] == finance.pk
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == ("paid", Decimal("30.00"))
    rest = refund(api(finance), payment.pk, reason="customer returned the rest")
    assert rest.json()["transaction"]["amount"] == "70.00"
    assert rest.json()["payment"]["status"] == "refunded"
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == ("refunded", Decimal("100.00"))
    assert gateway_refunds() == 2
    again = refund(api(finance), payment.pk, reason="again")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "ALREADY_REFUNDED"


def test_refund_above_refundable_names_what_is_left(api, customer, finance, product):
    _, payment = make_paid(customer, product)
    refund(api(finance), payment.pk, amount="20", reason="partial")
    response = refund(api(finance), payment.pk, amount="30.01", reason="too much")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "REFUND_EXCEEDS_REFUNDABLE"
    assert response.json()["error"]["details"] == {"refundable_amount": "30.00"}
    assert gateway_refunds() == 1


def test_owner_may_refund_only_everything_and_only_while_paid(api, customer, finance, product):
    # Contract change (issue 18, High 1): no partial refunds by the owner, none once processing.
    order, payment = make_paid(customer, product, quantity=2)
    partial = refund(api(customer), payment.pk, amount="10", reason="changed my mind")
    assert partial.status_code == 409
    assert partial.json()["error"]["code"] == "REFUND_NOT_ELIGIBLE"
    for status in ("processing", "shipped"):
        api(finance).patch(f"/api/v1/orders/{order.pk}", {"status": status}, format="json")
    response = refund(api(customer), payment.pk, reason="late")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "REFUND_NOT_ELIGIBLE"
    assert refund(api(finance), payment.pk, amount="10", reason="goodwill").status_code == 202


def test_refund_error_paths(api, customer, other_customer, support, finance, product):
    order = make_order(customer, product)
    pending = make_payment(customer, order)
    nothing = refund(api(finance), pending.pk, reason="x")
    assert nothing.status_code == 409
    assert nothing.json()["error"] == {
        **nothing.json()["error"],
        "code": "INVALID_STATUS",
        "details": {"status": "pending"},
    }
    _, paid = make_paid(customer, product)
    assert refund(api(other_customer), paid.pk, reason="x").status_code == 404
    assert refund(api(support), paid.pk, reason="x").status_code == 403
    missing_reason = refund(api(finance), paid.pk, amount="1")
    assert missing_reason.status_code == 400
    assert "reason" in missing_reason.json()["error"]["details"]
    assert refund(api(finance), paid.pk, amount="0", reason="x").status_code == 400
    assert refund(api(finance), paid.pk, amount="1.234", reason="x").status_code == 400
    assert gateway_refunds() == 0
    assert not Transaction.objects.filter(transaction_type="refund").exists()


def test_a_declined_refund_fails_and_frees_the_amount(api, customer, finance, product, monkeypatch):
    from payments.gateways.base import GatewayResult, GatewayStatus

    _, payment = make_paid(customer, product)
    monkeypatch.setattr(
        SimulatedGateway,
        "refund",
        lambda self, **kw: GatewayResult(
            status=GatewayStatus.FAILED, reference="sim_re_declined", failure_code="refund_declined"
        ),
    )
    response = refund(api(finance), payment.pk, reason="try")
    assert response.json()["transaction"]["status"] == "failed"
    assert response.json()["transaction"]["failure_reason"] == "refund_declined"
    assert response.json()["payment"]["status"] == "completed"
    assert response.json()["payment"]["refundable_amount"] == "50.00"


def test_gateway_errors_are_retried_three_times(api, customer, product, monkeypatch):
    calls = []
    original = SimulatedGateway.charge

    def counting(self, **kwargs):
        calls.append(kwargs["idempotency_key"])
        return original(self, **kwargs)

    monkeypatch.setattr(SimulatedGateway, "charge", counting)
    payment = make_payment(customer, make_order(customer, product))
    body = (
        api(customer)
        .post(
            f"/api/v1/payments/{payment.pk}/process",
            {"payment_method_id": "tok_gateway_error"},
            format="json",
        )
        .json()
    )
    assert body["failure_code"] == "gateway_error"
    assert calls == [f"payment-{payment.pk}-attempt-1"] * 4


@pytest.mark.parametrize("how", ["gateway", "store credit", "offline"])
def test_the_refund_event_goes_before_the_order_refunded_it_causes(
    api, customer, finance, product, how
):
    order, payment = make_paid(customer, product)
    if how == "offline":
        answer = api(finance).post(
            "/api/v1/transactions",
            {
                "payment_id": payment.pk,
                "transaction_type": "refund",
                "amount": str(payment.amount),
                "reason": "bank transfer back",
            },
            format="json",
        )
        assert answer.status_code == 201, answer.json()
    else:
        destination = "wallet" if how == "store credit" else "original"
        answer = refund(api(finance), payment.pk, reason="returned", destination=destination)
        assert answer.status_code == 202, answer.json()
    types = list(
        OutboxEvent.objects.filter(order_id=order.pk)
        .order_by("created_at")
        .values_list("type", flat=True)
    )
    assert types[-2:] == ["refund.succeeded", "order.refunded"], types
    # As a charge's payment.succeeded goes before its order.paid.
    assert types.index("payment.succeeded") < types.index("order.paid")
    refunded = OutboxEvent.objects.get(order_id=order.pk, type="refund.succeeded")
    assert refunded.data["refund_amount"] == str(payment.amount)
