"""Query filters for the ledger list."""

import django_filters

from gamarriando.filters import IdFilter, UTCDateTimeFilter
from transactions.models import Transaction, TransactionStatus, TransactionType


class TransactionFilter(django_filters.FilterSet):
    payment_id = IdFilter(field_name="payment_id")
    order_id = IdFilter(field_name="payment__order_id")
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
