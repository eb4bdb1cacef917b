"""Query filters for the payment list."""

import django_filters

from gamarriando.filters import AmountFilter, IdFilter, UTCDateTimeFilter
from payments.gateways.registry import GATEWAY_CLASSES
from payments.models import Payment, PaymentStatus


class PaymentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PaymentStatus.choices)
    payment_method = django_filters.ChoiceFilter(choices=[(n, n) for n in GATEWAY_CLASSES])
    order_id = IdFilter(field_name="order_id")
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lte")
    min_amount = AmountFilter(field_name="amount", lookup_expr="gte")
    max_amount = AmountFilter(field_name="amount", lookup_expr="lte")

    class Meta:
        model = Payment
        fields = [
            "status",
            "payment_method",
            "order_id",
            "created_after",
            "created_before",
            "min_amount",
            "max_amount",
        ]
