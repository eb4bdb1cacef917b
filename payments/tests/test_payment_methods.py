"""GET /payment-methods: the enabled gateways."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_payment_methods_lists_enabled_gateways(api, customer):
    response = api(customer).get("/api/v1/payment-methods")
    assert response.status_code == 200
    assert response.json()[0]["name"] == "simulated"
    assert set(response.json()[0]) == {
        "name",
        "supports_authorize",
        "supports_refund",
        "currencies",
    }
