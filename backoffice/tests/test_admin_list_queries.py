"""The admin lists run the same queries for 10 and 100 rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import Payment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


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
