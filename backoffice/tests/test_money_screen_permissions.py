"""The money screens and their buttons follow the clerk's permissions."""

import pytest

from backoffice.tests.helpers import operation_url
from tests.factories import UserFactory
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


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
