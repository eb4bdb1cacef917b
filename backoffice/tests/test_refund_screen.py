"""The refund screen through Django's test client: facts, confirmation, nonces, errors."""

from decimal import Decimal

import pytest
from django.test import Client

from backoffice.tests.helpers import form_nonce, operation_url, submit
from orders.tests.factories import ProductFactory
from payments.models import SimulatedGatewayOperation
from payments.services import payment_process, payment_refund
from tests.helpers import make_order, make_payment, record_dispute
from tests.threads import run_concurrently
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_refund_screen_shows_facts_confirms_and_refunds(browser_for, finance, paid):
    order, payment = paid
    client = browser_for(finance)
    page = client.get(operation_url(payment, "refund"))
    assert page.status_code == 200
    content = page.content.decode()
    assert order.order_number in content and order.user.email in content
    assert page.context["facts"]["refundable"] == Decimal("80.00")
    assert page.context["form"].initial["amount"] == Decimal("80.00")
    response, _ = submit(
        client, operation_url(payment, "refund"), amount="30.00", reason="one item returned"
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("30.00"))
    refund = Transaction.objects.get(transaction_type="refund")
    assert (refund.amount, refund.reason, refund.created_by_id) == (
        Decimal("30.00"),
        "one item returned",
        finance.pk,
    )
    follow = client.get(response["Location"])
    assert "Refund of 30.00 PEN: succeeded." in follow.content.decode()


def test_double_submission_of_one_refund_form_refunds_once(browser_for, finance, paid):
    _, payment = paid
    client = browser_for(finance)
    url = operation_url(payment, "refund")
    response, nonce = submit(client, url, amount="10.00", reason="damaged")
    again = client.post(
        url,
        {"nonce": nonce, "confirm": "True", "amount": "10.00", "reason": "damaged"},
        follow=True,
    )
    assert "already submitted" in again.content.decode()
    assert Transaction.objects.filter(transaction_type="refund").count() == 1
    assert SimulatedGatewayOperation.objects.filter(kind="refund").count() == 1
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("10.00")


def test_refund_screen_reports_errors_and_declines(browser_for, finance, paid, monkeypatch):
    from payments.gateways.base import GatewayResult, GatewayStatus
    from payments.gateways.simulated import SimulatedGateway

    _, payment = paid
    client = browser_for(finance)
    url = operation_url(payment, "refund")
    nonce = form_nonce(client, url)
    too_much = client.post(url, {"nonce": nonce, "amount": "80.01", "reason": "x"})
    # Refused on the first step, before anything is confirmed.
    assert not too_much.context["confirming"]
    assert too_much.context["form"].errors["amount"] == [
        "Only 80.00 PEN is left to refund on this payment."
    ]
    monkeypatch.setattr(
        SimulatedGateway,
        "refund",
        lambda self, **kw: GatewayResult(
            status=GatewayStatus.FAILED, reference="sim_re_x", failure_code="refund_declined"
        ),
    )
    declined, _ = submit(client, operation_url(payment, "refund"), amount="5.00", reason="try")
    page = client.get(declined["Location"]).content.decode()
    assert "the gateway declined (refund_declined)" in page
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("0.00")


def test_refund_list_action_needs_permission_and_one_payment(browser_for, finance, support, paid):
    _, payment = paid
    data = {"action": "refund_selected", "_selected_action": [payment.pk]}
    response = browser_for(finance).post("/admin/payments/payment/", data)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/payments/payment/{payment.pk}/refund/")
    support_page = browser_for(support).post("/admin/payments/payment/", data, follow=True)
    assert support_page.status_code == 200
    assert "refund_selected" not in support_page.content.decode()  # the action is not offered
    assert not Transaction.objects.filter(transaction_type="refund").exists()


def test_a_refused_submission_frees_its_nonce_for_the_corrected_form(browser_for, finance, paid):
    _, payment = paid
    client = browser_for(finance)
    url = operation_url(payment, "refund")
    nonce = form_nonce(client, url)
    asked = client.post(url, {"nonce": nonce, "amount": "80.00", "reason": "all of it"})
    assert asked.context["confirming"]
    # Between the confirmation step and the press, 1.00 is refunded elsewhere.
    payment_refund(payment_id=payment.pk, actor=finance, amount=Decimal("1.00"), reason="x")
    refused = client.post(
        url, {"nonce": nonce, "confirm": "True", "amount": "80.00", "reason": "all of it"}
    )
    assert "Refundable amount: 79.00 PEN" in refused.content.decode()
    corrected = client.post(
        url, {"nonce": nonce, "confirm": "True", "amount": "79.00", "reason": "all of it"}
    )
    assert corrected.status_code == 302
    assert Transaction.objects.filter(transaction_type="refund").count() == 2
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("80.00")


@pytest.mark.postgres
def test_two_simultaneous_submissions_of_one_form_refund_once(finance, paid, monkeypatch):
    import time

    from django.test import Client

    from backoffice import views

    _, payment = paid
    url = operation_url(payment, "refund")
    real_refund = views.payment_refund

    def slow_refund(**kwargs):
        # Hold the first claim's transaction open so the second claim meets it uncommitted.
        result = real_refund(**kwargs)
        time.sleep(0.5)
        return result

    monkeypatch.setattr(views, "payment_refund", slow_refund)
    nonce = "5d0c4f7e-1b7a-4c61-9d55-0f2a4b1c7e90"
    data = {"nonce": nonce, "confirm": "True", "amount": "10.00", "reason": "double click"}
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(finance)
    statuses = run_concurrently(2, lambda index: clients[index].post(url, data).status_code)
    assert statuses == [302, 302]
    assert Transaction.objects.filter(transaction_type="refund").count() == 1
    assert SimulatedGatewayOperation.objects.filter(kind="refund").count() == 1
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("10.00")


def test_a_yen_refund_shows_and_takes_whole_yen(browser_for, finance, customer):
    product = ProductFactory(price=Decimal("4800"), currency="JPY", stock=5)
    order = make_order(customer, product, currency="JPY")
    payment = make_payment(customer, order)
    payment_process(payment_id=payment.pk, actor=customer, payment_method_id="tok_success")
    client = browser_for(finance)
    url = operation_url(payment, "refund")
    page = client.get(url)
    content = page.content.decode()
    assert "4800 JPY" in content and "4800.00" not in content
    assert 'step="1"' in content and 'min="1"' in content  # whole yen in the browser too
    nonce = str(page.context["form"].initial["nonce"])
    # More decimals than yen has: refused on the first step, with the reason, nothing sent.
    first = client.post(url, {"nonce": nonce, "amount": "100.50", "reason": "x"})
    assert first.status_code == 200 and not first.context["confirming"]
    assert first.context["form"].errors["amount"] == ["JPY amounts allow at most 0 decimals."]
    assert not Transaction.objects.filter(transaction_type="refund").exists()
    response, _ = submit(client, url, amount="1000", reason="one item returned")
    follow = client.get(response["Location"]).content.decode()
    assert "Refund of 1000 JPY: succeeded." in follow


def test_a_refused_confirmation_asks_again_for_the_corrected_amount(browser_for, finance, paid):
    _, payment = paid
    first, second = browser_for(finance), Client()
    second.force_login(finance)
    url = operation_url(payment, "refund")
    nonce = form_nonce(first, url)
    asked = first.post(url, {"nonce": nonce, "amount": "70.00", "reason": "returned"})
    assert asked.context["confirming"]
    # Meanwhile another tab refunds 20.00: only 60.00 is left when the first confirms.
    submit(second, url, amount="20.00", reason="damaged")
    refused = first.post(
        url, {"nonce": nonce, "confirm": "True", "amount": "70.00", "reason": "returned"}
    )
    assert "Refundable amount: 60.00 PEN" in refused.content.decode()
    assert not refused.context["confirming"]
    assert 'name="confirm" value="True"' not in refused.content.decode()
    # The corrected amount, posted from the re-shown form, is confirmed again: nothing moves.
    corrected = dict(refused.context["form"].initial, amount="5.00")
    again = first.post(url, {k: v for k, v in corrected.items() if v is not None})
    assert again.status_code == 200 and again.context["confirming"]
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("20.00")


def test_a_disputed_payment_refund_screen_says_why_instead_of_asking(browser_for, finance, paid):
    _, payment = paid
    record_dispute(payment, "dp_held", amount="80.00")
    page = browser_for(finance).get(operation_url(payment, "refund"))
    assert "under dispute (needs response)" in page.context["unavailable"]
    assert 'id="continue-button"' not in page.content.decode()
