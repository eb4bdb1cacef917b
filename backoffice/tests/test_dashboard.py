"""The payments dashboard: figures from the database, for staff only."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from backoffice.dashboard import dashboard_figures
from orders.tests.factories import ProductFactory
from payments.models import Payment
from payments.services.capture_void import payment_capture
from payments.services.refund import payment_refund
from tests.factories import UserFactory
from tests.helpers import make_paid

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_the_figures_cover_the_same_calendar_days_as_the_bars(customer):
    product = ProductFactory(price=Decimal("10.00"), stock=50)
    _, inside = make_paid(customer, product)
    _, outside = make_paid(customer, product)
    today = timezone.localdate()
    first_day = timezone.make_aware(datetime.combine(today - timedelta(days=6), time.min))
    # One payment at the first day's first minute, one a minute before it (a day no bar shows).
    Payment.objects.filter(pk=inside.pk).update(created_at=first_day + timedelta(minutes=1))
    Payment.objects.filter(pk=outside.pk).update(created_at=first_day - timedelta(minutes=1))
    figures = dashboard_figures(days=7, today=today)
    assert figures.totals["count"] == 1 == sum(day["count"] for day in figures.per_day)
    assert figures.per_day[0]["count"] == 1
    assert figures.currencies[0].amount == Decimal("10.00")


def test_captured_and_refunded_count_the_money_moved_in_the_period(customer, finance):
    """A refund today of a payment from last month is today's refund; its charge is not."""
    pen = ProductFactory(price=Decimal("80.00"), stock=50)
    usd = ProductFactory(price=Decimal("15.00"), currency="USD", stock=50)
    with time_machine.travel(timezone.now() - timedelta(days=30), tick=True):
        _, old_pen = make_paid(customer, pen)
        _, old_usd = make_paid(customer, usd, capture=False)
    payment_refund(payment_id=old_pen.pk, actor=finance, reason="returned", amount=Decimal("30"))
    payment_capture(payment_id=old_usd.pk, actor=finance, amount=Decimal("12.00"))
    make_paid(customer, pen)
    figures = dashboard_figures(days=7)
    blocks = {block.currency: block for block in figures.currencies}
    # PEN: one payment created in the period (80.00, captured); the old one's refund counts.
    assert (blocks["PEN"].count, blocks["PEN"].amount) == (1, Decimal("80.00"))
    assert (blocks["PEN"].captured, blocks["PEN"].refunded) == (Decimal("80.00"), Decimal("30.00"))
    assert blocks["PEN"].refund_rate == Decimal("0.375")
    # USD: no payment created in the period, but 12.00 captured in it: the block is there.
    assert (blocks["USD"].count, blocks["USD"].amount) == (0, Decimal("0.00"))
    assert (blocks["USD"].captured, blocks["USD"].refunded) == (Decimal("12.00"), Decimal("0.00"))
    # Over 90 days the old charge is inside the period too.
    wide = {block.currency: block for block in dashboard_figures(days=90).currencies}
    assert (wide["PEN"].captured, wide["PEN"].count) == (Decimal("160.00"), 2)
