"""E-mails to customers for payments, failures and refunds."""

from decimal import Decimal

import pytest

from orders.tests.factories import ProductFactory
from tests.helpers import make_paid

pytestmark = pytest.mark.django_db(transaction=True)


def test_customers_get_emails_for_payments_and_refunds(customer, finance, mailoutbox):
    from payments.services import payment_refund

    _, payment = make_paid(customer, ProductFactory(price=Decimal("40.00"), stock=5))
    make_paid(customer, ProductFactory(price=Decimal("10.00"), stock=5), token="tok_declined")
    payment_refund(
        payment_id=payment.pk, actor=finance, amount=Decimal("15.00"), reason="late delivery"
    )
    subjects = sorted(mail.subject.split(" for ")[0] for mail in mailoutbox)
    assert subjects == ["Payment failed", "Payment received", "Refund"]
    refund_mail = next(mail for mail in mailoutbox if mail.subject.startswith("Refund"))
    assert refund_mail.to == [customer.email]
    assert "15.00 PEN" in refund_mail.body
    assert refund_mail.alternatives[0][1] == "text/html"
