"""The payments dashboard: figures from the database, for staff only."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backoffice.dashboard import dashboard_figures
from orders.tests.factories import ProductFactory
from payments.models import Payment
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
