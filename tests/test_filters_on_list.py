"""FiltersOnListMixin skips the FilterSet only when it would do nothing."""

import django_filters
import pytest
from rest_framework import generics, permissions
from rest_framework.test import APIRequestFactory

from gamarriando.filters import FiltersOnListMixin
from orders.api import ProductOutputSerializer
from orders.models import Product
from orders.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


class RequiredSkuFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(required=True)

    class Meta:
        model = Product
        fields = ["sku"]


class PriceRangeFilter(django_filters.FilterSet):
    price = django_filters.RangeFilter()  # parameters price_min and price_max

    class Meta:
        model = Product
        fields = ["price"]


def view_with(filterset):
    class Products(FiltersOnListMixin, generics.ListAPIView):
        queryset = Product.objects.order_by("pk")
        serializer_class = ProductOutputSerializer
        permission_classes = [permissions.AllowAny]
        authentication_classes: list = []
        pagination_class = None
        filterset_class = filterset

        def list(self, request, *args, **kwargs):
            self.action = "list"  # what a viewset's router sets
            return super().list(request, *args, **kwargs)

    return Products.as_view()


def get(view, query=""):
    return view(APIRequestFactory().get(f"/products{query}"))


def test_a_required_filter_still_refuses_a_request_without_it():
    ProductFactory(sku="REQ-1")
    assert get(view_with(RequiredSkuFilter)).status_code == 400
    assert len(get(view_with(RequiredSkuFilter), "?sku=REQ-1").data) == 1


def test_a_range_filter_applies_through_its_suffixed_parameters():
    ProductFactory(sku="CHEAP", price="5.00")
    ProductFactory(sku="DEAR", price="50.00")
    view = view_with(PriceRangeFilter)
    assert [row["sku"] for row in get(view, "?price_min=10").data] == ["DEAR"]
    assert len(get(view, "?unrelated=1").data) == 2
