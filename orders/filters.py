"""Query filters for the order list."""

import django_filters

from gamarriando.filters import AmountFilter, UTCDateTimeFilter
from orders.models import Order, OrderStatus


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lte")
    min_total = AmountFilter(field_name="total_amount", lookup_expr="gte")
    max_total = AmountFilter(field_name="total_amount", lookup_expr="lte")
    search = django_filters.CharFilter(
        field_name="order_number", lookup_expr="icontains", max_length=32
    )

    class Meta:
        model = Order
        fields = ["status", "created_after", "created_before", "min_total", "max_total", "search"]
