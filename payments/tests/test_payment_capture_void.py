"""POST /payments/{id}/capture and DELETE /payments/{id}: capture, void, cancel."""

from decimal import Decimal

import pytest

from payments.models import Payment
from payments.tests.helpers import process
from tests.helpers import make_order, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_authorize_then_partial_capture_releases_the_rest(api, customer, finance, support, product):
    order = make_order(customer, product, quantity=2)
    payment = make_payment(customer, order)
    body = process(api(customer), payment.pk, capture=False).json()
    assert body["status"] == "authorized"
    assert body["captured_amount"] == "0.00"
    for user, code in ((customer, 403), (support, 403)):
        assert (
            api(user).post(f"/api/v1/payments/{payment.pk}/capture", {}, format="json").status_code
            == code
        )
    too_much = api(finance).post(
        f"/api/v1/payments/{payment.pk}/capture", {"amount": "100.01"}, format="json"
    )
    assert too_much.status_code == 400
    captured = api(finance).post(
        f"/api/v1/payments/{payment.pk}/capture", {"amount": "60.00"}, format="json"
    )
    assert captured.status_code == 202
    assert (captured.json()["status"], captured.json()["captured_amount"]) == ("completed", "60.00")
    again = api(finance).post(f"/api/v1/payments/{payment.pk}/capture", {}, format="json")
    assert again.status_code == 409
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == ("pending", Decimal("60.00"))


def test_delete_voids_authorized_and_cancels_pending(api, customer, finance, product):
    order = make_order(customer, product, quantity=2)
    pending = make_payment(customer, order, amount="50")
    authorized = make_payment(customer, order, amount="50")
    process(api(customer), authorized.pk, capture=False)
    assert api(customer).delete(f"/api/v1/payments/{pending.pk}").json()["status"] == "cancelled"
    voided = api(customer).delete(f"/api/v1/payments/{authorized.pk}/")
    assert voided.status_code == 200
    assert voided.json()["status"] == "cancelled"
    assert (
        Transaction.objects.filter(
            payment=authorized, transaction_type="void", status="succeeded"
        ).count()
        == 1
    )
    assert api(customer).delete(f"/api/v1/payments/{authorized.pk}").status_code == 409
    assert Payment.objects.count() == 2
