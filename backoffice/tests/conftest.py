"""Fixtures of the back-office tests: a signed-in browser and a paid order."""

from decimal import Decimal

import pytest

from orders.tests.factories import ProductFactory
from tests.helpers import make_paid


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
