"""A cancelled order's refund waits while a dispute is open: the bank may return the money too."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.tests.factories import ProductFactory
from payments.monitoring import payment_alerts
from tests.helpers import make_paid, record_dispute
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def record(payment, status, amount="40.00"):
    return record_dispute(
        payment, "dp_cancel", status, amount=amount, due=timezone.now() + timedelta(days=7)
    )


def alerts():
    return payment_alerts(timezone.now())


def money_rows(payment):
    return list(
        Transaction.objects.filter(payment=payment)
        .exclude(transaction_type="charge")
        .order_by("pk")
        .values_list("transaction_type", "status", "amount")
    )


@pytest.fixture
def disputed(customer):
    order, payment = make_paid(customer, ProductFactory(price=Decimal("40.00"), stock=5))
    record(payment, "needs_response")
    return order, payment


def test_cancelling_a_disputed_order_refunds_nothing_until_the_dispute_closes(
    api, customer, disputed
):
    order, payment = disputed
    response = api(customer).delete(f"/api/v1/orders/{order.pk}")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert money_rows(payment) == []
    # Lost: the bank gave the customer the money back; nothing is left to refund.
    record(payment, "lost")
    assert money_rows(payment) == [("chargeback", "succeeded", Decimal("40.00"))]
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("0.00")


def test_a_won_dispute_gives_the_cancelled_order_its_refund(api, customer, finance, disputed):
    order, payment = disputed
    assert api(finance).delete(f"/api/v1/orders/{order.pk}").status_code == 200
    assert money_rows(payment) == []
    record(payment, "won")
    assert money_rows(payment) == [("refund", "succeeded", Decimal("40.00"))]
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status, order.amount_refunded) == (
        "refunded",
        "cancelled",
        Decimal("40.00"),
    )


def test_a_partly_lost_dispute_gives_back_the_rest(api, customer):
    order, payment = make_paid(customer, ProductFactory(price=Decimal("40.00"), stock=5))
    record(payment, "needs_response", amount="15.00")  # the bank disputes part of it
    assert api(customer).delete(f"/api/v1/orders/{order.pk}").status_code == 200
    assert money_rows(payment) == []
    record(payment, "lost", amount="15.00")
    assert money_rows(payment) == [
        ("chargeback", "succeeded", Decimal("15.00")),
        ("refund", "succeeded", Decimal("25.00")),
    ]


def test_a_closed_inquiry_releases_nothing_and_the_alert_names_the_payment(api, customer):
    order, payment = make_paid(customer, ProductFactory(price=Decimal("40.00"), stock=5))
    record(payment, "warning_needs_response")
    assert api(customer).delete(f"/api/v1/orders/{order.pk}").status_code == 200
    assert not any(str(payment.pk) in line for line in alerts())  # held on purpose
    record(payment, "warning_closed")  # an inquiry may still become a chargeback
    assert money_rows(payment) == []
    assert any(str(payment.pk) in line for line in alerts())
    record(payment, "lost")  # it did: the bank returned the money, once
    assert money_rows(payment) == [("chargeback", "succeeded", Decimal("40.00"))]
    assert not any(str(payment.pk) in line for line in alerts())


def test_repeated_and_reversed_outcomes_give_the_money_back_once(api, customer, disputed):
    order, payment = disputed
    assert api(customer).delete(f"/api/v1/orders/{order.pk}").status_code == 200
    record(payment, "lost")
    record(payment, "lost")
    record(payment, "won")  # on appeal: the merchant has the money again, the customer not
    record(payment, "won")
    assert money_rows(payment) == [
        ("chargeback", "succeeded", Decimal("40.00")),
        ("chargeback_reversal", "succeeded", Decimal("40.00")),
        ("refund", "succeeded", Decimal("40.00")),
    ]
