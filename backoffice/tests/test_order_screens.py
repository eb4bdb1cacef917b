"""The order screens: fulfilment actions and the cancel screen."""

import pytest

from payments.models import Payment
from tests.helpers import make_order, make_payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_order_fulfilment_actions_and_cancel_screen(browser_for, finance, support, paid):
    order, payment = paid
    finance_client = browser_for(finance)
    for status in ("processing", "shipped"):
        finance_client.post(
            "/admin/orders/order/", {"action": f"move_to_{status}", "_selected_action": [order.pk]}
        )
        order.refresh_from_db()
        assert order.status == status
    support_client = browser_for(support)
    support_client.post(
        "/admin/orders/order/", {"action": "move_to_delivered", "_selected_action": [order.pk]}
    )
    order.refresh_from_db()
    assert order.status == "shipped"
    assert support_client.get(f"/admin/orders/order/{order.pk}/cancel/").status_code == 403
    finance_client = browser_for(finance)  # one test client: log finance back in
    screen = finance_client.get(f"/admin/orders/order/{order.pk}/cancel/")
    assert screen.context["unavailable"] == "An order that is shipped cannot be cancelled."
    assert 'id="continue-button"' not in screen.content.decode()
    page = finance_client.post(  # a form posted anyway is refused by the service
        f"/admin/orders/order/{order.pk}/cancel/",
        {"nonce": "6f1e2c1e-2b1c-4d3a-9a7e-1f2e3d4c5b6a", "reason": "lost", "confirm": "True"},
        follow=True,
    )
    assert "cannot go from shipped to cancelled" in page.content.decode()


def test_cancel_screen_says_what_happens_confirms_then_cancels_and_refunds(
    browser_for, finance, paid
):
    order, payment = paid
    client = browser_for(finance)
    url = f"/admin/orders/order/{order.pk}/cancel/"
    screen = client.get(url)
    assert screen.context["consequences"] == [
        f"Payment {payment.pk} (simulated, completed): 80.00 PEN is refunded to the payment method."
    ]
    body = {"nonce": "0b1e2c1e-2b1c-4d3a-9a7e-1f2e3d4c5b6a", "reason": "fraud suspected"}
    asked = client.post(url, body)
    assert asked.status_code == 200 and asked.context["confirming"]
    order.refresh_from_db()
    assert order.status == "paid"  # nothing happens on the first press
    client.post(url, {**body, "confirm": "True"})
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("cancelled", "fraud suspected")
    assert payment.status == "refunded"


def test_the_cancel_screen_names_a_charge_on_its_way_and_a_buyer_still_deciding(
    browser_for, finance, customer, product
):
    order = make_order(customer, product, quantity=2)
    on_its_way = make_payment(customer, order, amount="10.00")
    waiting = make_payment(customer, order, amount="5.00")
    Payment.objects.filter(pk=on_its_way.pk).update(status="processing")
    Payment.objects.filter(pk=waiting.pk).update(status="requires_action")
    screen = browser_for(finance).get(f"/admin/orders/order/{order.pk}/cancel/")
    assert screen.context["consequences"] == [
        f"Payment {on_its_way.pk} (simulated, processing): a charge is on its way; what it "
        "takes is refunded once it settles.",
        f"Payment {waiting.pk} (simulated, requires action): waiting for the buyer; the attempt "
        "is called off, and what a late approval takes is refunded.",
    ]
