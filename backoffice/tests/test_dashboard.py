"""The payments dashboard: figures from the database, for staff only."""

from decimal import Decimal

import pytest

from orders.tests.factories import ProductFactory
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
