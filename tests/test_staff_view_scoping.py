"""API scoping by view permission (issue 18, item 15): is_staff alone sees only its own rows."""

import pytest
from django.contrib.auth.models import Permission

from orders.tests.factories import OrderFactory
from payments.tests.factories import PaymentFactory
from tests.factories import UserFactory
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(customer):
    """One customer's order, payment and ledger row, nobody else's."""
    order = OrderFactory(user=customer)
    payment = PaymentFactory(order=order)
    transaction = TransactionFactory(payment=payment)
    return {"orders": order, "payments": payment, "transactions": transaction}


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("resource", ["orders", "payments", "transactions"])
def test_staff_without_a_group_sees_only_its_own_rows(api, rows, resource):
    clerk = UserFactory(email="clerk@example.com", is_staff=True)
    own_order = OrderFactory(user=clerk)
    own_payment = PaymentFactory(order=own_order)
    own = {
        "orders": own_order,
        "payments": own_payment,
        "transactions": TransactionFactory(payment=own_payment),
    }[resource]
    client = api(clerk)

    assert ids(client.get(f"/api/v1/{resource}")) == {own.pk}
    assert client.get(f"/api/v1/{resource}/{rows[resource].pk}").status_code == 404
    assert client.get(f"/api/v1/{resource}/{own.pk}").status_code == 200


@pytest.mark.parametrize("resource", ["orders", "payments", "transactions"])
def test_support_and_superusers_see_every_row(api, rows, support, resource):
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    for user in (support, root):
        client = api(user)
        assert ids(client.get(f"/api/v1/{resource}")) == {rows[resource].pk}
        assert client.get(f"/api/v1/{resource}/{rows[resource].pk}").status_code == 200


def test_each_view_permission_opens_only_its_own_resource(api, rows):
    clerk = UserFactory(email="orders-clerk@example.com", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = api(clerk)

    assert ids(client.get("/api/v1/orders")) == {rows["orders"].pk}
    assert ids(client.get("/api/v1/payments")) == set()
    assert ids(client.get("/api/v1/transactions")) == set()


def test_a_customer_given_a_view_permission_still_sees_only_its_own(api, rows, other_customer):
    other_customer.user_permissions.add(Permission.objects.get(codename="view_payment"))
    assert ids(api(other_customer).get("/api/v1/payments")) == set()
