"""GET /products: public, active products only."""

import pytest

from orders.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_products_are_public_and_only_active(api, product):
    ProductFactory(is_active=False)
    response = api().get("/api/v1/products")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [product.pk]
    assert response.json()["results"][0]["price"] == "50.00"
