"""The capture and void screens through Django's test client."""

from decimal import Decimal

import pytest

from backoffice.tests.helpers import form_nonce, operation_url, submit
from orders.tests.factories import ProductFactory
from tests.helpers import make_paid

pytestmark = pytest.mark.django_db(transaction=True)


def test_capture_and_void_screens(browser_for, finance, customer):
    product = ProductFactory(price=Decimal("40.00"), stock=10)
    _, to_capture = make_paid(customer, product, capture=False)
    _, to_void = make_paid(customer, product, capture=False)
    client = browser_for(finance)
    assert client.get(operation_url(to_capture, "capture")).context["form"].initial[
        "amount"
    ] == Decimal("40.00")
    submit(client, operation_url(to_capture, "capture"), amount="25.00")
    to_capture.refresh_from_db()
    assert (to_capture.status, to_capture.captured_amount) == ("completed", Decimal("25.00"))
    submit(client, operation_url(to_void, "void"), reason="customer changed order")
    to_void.refresh_from_db()
    assert to_void.status == "cancelled"
    again, _ = submit(client, operation_url(to_void, "void"), reason="again")
    assert "Only a pending, authorized or requires_action payment" in again.content.decode()


def test_a_capture_above_the_authorization_is_refused_before_the_confirmation(
    browser_for, finance, customer
):
    product = ProductFactory(price=Decimal("40.00"), stock=10)
    _, payment = make_paid(customer, product, capture=False)
    client = browser_for(finance)
    url = operation_url(payment, "capture")
    nonce = form_nonce(client, url)
    page = client.post(url, {"nonce": nonce, "amount": "50.00"})
    assert not page.context["confirming"]
    assert page.context["form"].errors["amount"] == [
        "Only 40.00 PEN is left to capture on this payment."
    ]
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("0.00")


def test_nothing_is_capturable_once_captured_in_part_or_voided(browser_for, finance, customer):
    product = ProductFactory(price=Decimal("40.00"), stock=10)
    _, captured = make_paid(customer, product, capture=False)
    _, voided = make_paid(customer, product, capture=False)
    client = browser_for(finance)
    submit(client, operation_url(captured, "capture"), amount="25.00")
    submit(client, operation_url(voided, "void"), reason="changed")
    for payment in (captured, voided):
        page = client.get(operation_url(payment, "capture"))
        assert page.context["facts"]["capturable"] == Decimal("0.00"), payment.status
        assert 'id="capturable-amount">0.00 PEN' in page.content.decode()
