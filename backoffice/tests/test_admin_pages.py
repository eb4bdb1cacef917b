"""The model admins staff read: read-only ledger, timeline, dashboard, list queries, events."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.tests.helpers import operation_url, submit
from orders.tests.factories import ProductFactory
from payments.models import Payment
from tests.factories import UserFactory
from tests.helpers import make_paid
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


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
