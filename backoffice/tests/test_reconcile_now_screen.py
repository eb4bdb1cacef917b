"""The reconcile-now action: it queues the reconciliation and reports where the payment stands."""

from decimal import Decimal

import pytest

from orders.tests.factories import ProductFactory
from tests.helpers import make_order, make_payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_reconcile_now_resolves_a_timed_out_payment(browser_for, finance, support, customer):
    product = ProductFactory(price=Decimal("30.00"), stock=5)
    order = make_order(customer, product)
    payment = make_payment(customer, order)
    from payments.services import payment_process

    payment_process(payment_id=payment.pk, actor=customer, payment_method_id="tok_timeout")
    assert (
        browser_for(support).post(f"/admin/payments/payment/{payment.pk}/reconcile/").status_code
        == 403
    )
    payment.refresh_from_db()
    assert payment.status == "processing"
    browser_for(finance).post(
        "/admin/payments/payment/",
        {"action": "reconcile_selected", "_selected_action": [payment.pk]},
    )
    payment.refresh_from_db()
    assert payment.status == "completed"


def test_reconcile_now_says_how_many_were_queued_and_where_the_payment_stands(
    browser_for, finance, customer
):
    from payments.services import payment_process

    payment = make_payment(customer, make_order(customer, ProductFactory(price=Decimal("30.00"))))
    payment_process(payment_id=payment.pk, actor=customer, payment_method_id="tok_timeout")
    page = browser_for(finance).post(
        f"/admin/payments/payment/{payment.pk}/reconcile/", follow=True
    )
    assert page.redirect_chain[-1][0] == f"/admin/payments/payment/{payment.pk}/change/"
    assert (
        "Queued 1 pending operation(s) for reconciliation; the payment is completed."
        in page.content.decode()
    )
