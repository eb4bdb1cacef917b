"""Query filters for a customer's wallet entries."""

import django_filters

from gamarriando.filters import UTCDateTimeFilter
from wallets.models import EntryType, WalletEntry


class WalletEntryFilter(django_filters.FilterSet):
    currency = django_filters.CharFilter(field_name="wallet__currency", method="by_currency")
    entry_type = django_filters.ChoiceFilter(choices=EntryType.choices)
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = WalletEntry
        fields = ["currency", "entry_type", "created_after", "created_before"]

    def by_currency(self, queryset, name, value):
        # Currencies are accepted in any case, as everywhere in the API.
        return queryset.filter(wallet__currency=value.upper())
