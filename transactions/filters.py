"""Query filters for the ledger list."""

import django_filters

from gamarriando.filters import UTCDateTimeFilter
from transactions.models import Transaction, TransactionStatus, TransactionType


class TransactionFilter(django_filters.FilterSet):
    payment_id = django_filters.NumberFilter(field_name="payment_id", min_value=1, max_value=2**62)
    order_id = django_filters.NumberFilter(
        field_name="payment__order_id", min_value=1, max_value=2**62
    )
    transaction_type = django_filters.ChoiceFilter(choices=TransactionType.choices)
    status = django_filters.ChoiceFilter(choices=TransactionStatus.choices)
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Transaction
        fields = [
            "payment_id",
            "order_id",
            "transaction_type",
            "status",
            "created_after",
            "created_before",
        ]
