"""The money screens through Django's test client: refund, capture, void, cancel, reconcile."""

from decimal import Decimal

import pytest

from backoffice.tests.helpers import operation_url, submit
from orders.tests.factories import ProductFactory
from payments.models import SimulatedGatewayOperation
from tests.factories import UserFactory
from tests.helpers import make_order, make_paid, make_payment
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
    too_much, _ = submit(client, operation_url(payment, "refund"), amount="80.01", reason="x")
    assert too_much.status_code == 200
    assert "refundable_amount: 80.00" in too_much.content.decode()
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
    assert "Only a pending or authorized payment" in again.content.decode()


@pytest.mark.parametrize("name", ["refund", "capture", "void"])
def test_money_screens_are_forbidden_without_the_permission(
    browser_for, support, customer, paid, name
):
    _, payment = paid
    for user in (support, UserFactory(email="clerk@example.com", is_staff=True)):
        client = browser_for(user)
        assert client.get(operation_url(payment, name)).status_code == 403
        assert (
            client.post(
                operation_url(payment, name), {"amount": "1", "reason": "x", "confirm": "True"}
            ).status_code
            == 403
        )
    client = browser_for(customer)
    assert (
        client.get(operation_url(payment, name)).status_code == 302
    )  # non-staff go to the login page
    assert not Transaction.objects.filter(
        transaction_type__in=["refund", "capture", "void"]
    ).exists()


def test_buttons_follow_permissions(browser_for, finance, support, paid):
    _, payment = paid
    url = f"/admin/payments/payment/{payment.pk}/change/"
    assert 'id="refund-button"' in browser_for(finance).get(url).content.decode()
    page = browser_for(support).get(url)
    assert page.status_code == 200
    assert 'id="refund-button"' not in page.content.decode()
    assert "Reconcile now" not in page.content.decode()


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
    page = finance_client.post(
        f"/admin/orders/order/{order.pk}/cancel/",
        {"nonce": "6f1e2c1e-2b1c-4d3a-9a7e-1f2e3d4c5b6a", "reason": "lost"},
        follow=True,
    )
    assert "cannot go from shipped to cancelled" in page.content.decode()


def test_cancel_screen_cancels_and_refunds(browser_for, finance, paid):
    order, payment = paid
    browser_for(finance).post(
        f"/admin/orders/order/{order.pk}/cancel/",
        {"nonce": "0b1e2c1e-2b1c-4d3a-9a7e-1f2e3d4c5b6a", "reason": "fraud suspected"},
    )
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("cancelled", "fraud suspected")
    assert payment.status == "refunded"


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


def test_a_refused_submission_frees_its_nonce_for_the_corrected_form(browser_for, finance, paid):
    _, payment = paid
    client = browser_for(finance)
    url = operation_url(payment, "refund")
    refused, nonce = submit(client, url, amount="80.01", reason="too much")
    assert "refundable_amount: 80.00" in refused.content.decode()
    corrected = client.post(
        url, {"nonce": nonce, "confirm": "True", "amount": "80.00", "reason": "all of it"}
    )
    assert corrected.status_code == 302
    assert Transaction.objects.filter(transaction_type="refund").count() == 1
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("80.00")


@pytest.mark.postgres
def test_two_simultaneous_submissions_of_one_form_refund_once(finance, paid, monkeypatch):
    import threading
    import time

    from django.db import connection
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
    barrier, statuses = threading.Barrier(2), []

    def click():
        try:
            client = Client()
            client.force_login(finance)
            barrier.wait()
            statuses.append(client.post(url, data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302, 302]
    assert Transaction.objects.filter(transaction_type="refund").count() == 1
    assert SimulatedGatewayOperation.objects.filter(kind="refund").count() == 1
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("10.00")
