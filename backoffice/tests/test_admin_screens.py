"""The back office through Django's test client: permissions, money screens, timeline, dashboard."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import Payment, SimulatedGatewayOperation
from tests.factories import ProductFactory, UserFactory
from tests.helpers import make_order, make_paid, make_payment
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def paid(customer):
    product = ProductFactory(price=Decimal("80.00"), stock=10)
    return make_paid(customer, product)


def operation_url(payment, name):
    return f"/admin/payments/payment/{payment.pk}/{name}/"


def submit(client, url, **data):
    """Post the form, then the confirmation step with the same nonce."""
    form = client.get(url).context["form"]
    nonce = str(form.initial["nonce"])
    first = client.post(url, {"nonce": nonce, **data})
    assert first.status_code == 200 and first.context["confirming"], getattr(first, "context", None)
    return client.post(url, {"nonce": nonce, "confirm": "True", **data}), nonce


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


def test_ledger_admin_is_read_only_even_for_superusers(browser_for, paid):
    _, payment = paid
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client = browser_for(root)
    row = Transaction.objects.get(payment=payment)
    assert client.get("/admin/transactions/transaction/add/").status_code == 403
    assert client.get(f"/admin/transactions/transaction/{row.pk}/delete/").status_code == 403
    page = client.get(f"/admin/transactions/transaction/{row.pk}/change/")
    assert page.status_code == 200
    assert 'name="amount"' not in page.content.decode()
    client.post(
        f"/admin/transactions/transaction/{row.pk}/change/", {"amount": "1.00", "status": "failed"}
    )
    row.refresh_from_db()
    assert (row.amount, row.status) == (Decimal("80.00"), "succeeded")


def test_money_fields_are_never_editable(browser_for, finance, paid):
    order, payment = paid
    client = browser_for(finance)
    for url in (
        f"/admin/orders/order/{order.pk}/change/",
        f"/admin/payments/payment/{payment.pk}/change/",
    ):
        html = client.get(url).content.decode()
        for field in (
            "amount",
            "total_amount",
            "amount_paid",
            "captured_amount",
            "refunded_amount",
        ):
            assert f'name="{field}"' not in html, (url, field)


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


def test_order_timeline_lists_everything_in_time_order(browser_for, finance, paid):
    order, payment = paid
    client = browser_for(finance)
    submit(client, operation_url(payment, "refund"), amount="5.00", reason="scratch")
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    timeline = page[page.index('id="order-timeline"') :]
    for text in (
        "→ pending",
        "→ processing",
        "charge 80.00 PEN: succeeded",
        "→ completed",
        "→ paid",
        "refund 5.00 PEN: succeeded",
        "finance@example.com",
        "payment.succeeded",
    ):
        assert text in timeline, text
    assert (
        timeline.index("→ pending") < timeline.index("charge 80.00") < timeline.index("refund 5.00")
    )


def test_dashboard_figures_come_from_the_database(browser_for, finance, support, customer):
    product = ProductFactory(price=Decimal("10.00"), stock=50)
    make_paid(customer, product)
    make_paid(customer, product)
    make_paid(customer, product, token="tok_declined")
    page = browser_for(support).get("/admin/payments/payment/dashboard/?days=7")
    assert page.status_code == 200
    figures = page.context["figures"]
    assert figures.totals["count"] == 3
    assert figures.success_rate == pytest.approx(2 / 3)
    assert figures.failures_by_code == [{"failure_code": "card_declined", "count": 1}]
    assert figures.latency_by_gateway[0]["payment_method"] == "simulated"
    assert figures.latency_by_gateway[0]["calls"] == 3
    assert figures.avg_seconds_to_final is not None
    assert page.content.decode().count('role="img"') == 4
    assert len(figures.per_day) == 7
    assert (
        browser_for(UserFactory(email="nobody@example.com", is_staff=True))
        .get("/admin/payments/payment/dashboard/")
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    "url",
    [
        "/admin/orders/order/",
        "/admin/payments/payment/",
        "/admin/transactions/transaction/",
        "/admin/orders/product/",
        "/admin/gamarriando/idempotencykey/",
        "/admin/gamarriando/outboxevent/",
    ],
)
def test_admin_lists_run_the_same_queries_for_10_and_100_rows(client, url):
    from backoffice.tests.seed import seed_rows

    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(root)
    seed_rows(10)
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    seed_rows(90)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(small.captured_queries) == len(large.captured_queries)
    assert Payment.objects.count() >= 100


def test_staff_reprocess_a_failed_stripe_event_from_the_admin(
    browser_for, finance, support, monkeypatch
):
    from django.utils import timezone

    from payments import tasks
    from payments.models import StripeWebhookEvent

    event = StripeWebhookEvent.objects.create(
        id="evt_failed1",
        type="refund.updated",
        stripe_created=timezone.now(),
        payload={},
        status="failed",
        last_error="boom",
    )
    handled = []
    monkeypatch.setattr(tasks, "stripe_event_process", lambda event_id: handled.append(event_id))
    data = {"action": "reprocess", "_selected_action": [event.pk]}
    browser_for(support).post("/admin/payments/stripewebhookevent/", data)
    assert handled == []
    browser_for(finance).post("/admin/payments/stripewebhookevent/", data)
    assert handled == ["evt_failed1"]
