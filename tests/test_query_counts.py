"""Every list endpoint runs the same number of queries for 5 rows as for 50."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.tests.factories import OrderFactory, ProductFactory
from payments.tests.factories import PaymentFactory
from tests.factories import UserFactory
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


def seed(user, product, count):
    """Write count orders, each with one line, one payment and one ledger row."""
    for _ in range(count):
        payment = PaymentFactory(order=OrderFactory(user=user, product=product))
        TransactionFactory(
            payment=payment, transaction_type="refund", amount=Decimal("1.00"), status="pending"
        )


def count_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries), len(response.json()["results"]) if isinstance(
        response.json(), dict
    ) else 0


@pytest.mark.parametrize(
    "url", ["/api/v1/orders", "/api/v1/payments", "/api/v1/transactions", "/api/v1/products"]
)
def test_list_query_count_does_not_grow_with_rows(api, url):
    product = ProductFactory()
    few_user, many_user = UserFactory(), UserFactory()
    seed(few_user, product, 5)
    seed(many_user, product, 50)
    for index in range(45):
        ProductFactory(sku=f"EXTRA-{index}")
    few, few_rows = count_queries(api(few_user), url + "?page_size=100")
    many, many_rows = count_queries(api(many_user), url + "?page_size=100")
    if url.endswith("products"):
        assert (few_rows, many_rows) == (46, 46)
    else:
        assert (few_rows, many_rows) == (5, 50)
    assert few == many
