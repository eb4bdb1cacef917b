"""Filter pieces shared by every list endpoint."""

from datetime import UTC
from decimal import Decimal

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 filter whose value reaches the database in UTC.

    PostgreSQL refuses offsets beyond +-15:59 that Python accepts, so the offset is
    resolved here rather than left to the database.
    """

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except (OverflowError, ValueError):
                return qs.none()  # a date outside the representable range matches nothing
        return super().filter(qs, value)


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number from 1 to 2**62 ("1.9" is refused, not read as 1)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**62)
        super().__init__(*args, **kwargs)


class ValueDecimalField(forms.DecimalField):
    """A decimal whose decimals are the value's: trailing zeros do not count ("1.50" has 1)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None or not value.is_finite():
            return value
        sign, digits, exponent = value.as_tuple()
        # Exact, unlike normalize(), which rounds to the context's 28 digits.
        kept = len(bytes(digits).rstrip(b"\0"))
        if not kept:  # zero: no decimals at all
            return Decimal((sign, (0,), max(exponent, 0)))
        drop = min(len(digits) - kept, max(-exponent, 0))
        return Decimal((sign, digits[: len(digits) - drop], exponent + drop))


class AmountFilter(django_filters.NumberFilter):
    """A money bound: django-filter caps it above at 1e50; this caps it below and its decimals.

    PostgreSQL's numeric overflows on 1e-999999 or -1e999999, which Python's Decimal reads.
    """

    field_class = ValueDecimalField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", Decimal("-1e50"))
        kwargs.setdefault("decimal_places", 30)  # JavaScript's float text has up to 17
        super().__init__(*args, **kwargs)


class FiltersOnListMixin:
    """Apply the filter backends to list only: a detail page has no use for the list's filters.

    DRF's get_object runs filter_queryset, which builds and validates the FilterSet on every
    retrieve (10 % of an order detail in the profile).
    """

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        asked = self._filter_names_asked()
        for backend in self.filter_backends:
            if issubclass(backend, DjangoFilterBackend) and not asked:
                # No parameter names a filter: the FilterSet would build and validate its form
                # only to filter nothing (a tenth of a ledger page in the profile).
                continue
            queryset = backend().filter_queryset(self.request, queryset, self)
        return queryset

    def _filter_names_asked(self) -> bool:
        """Tell whether the FilterSet has work: a parameter names a filter, or one is required."""
        # django-filter names every form field after its filter, a range's with a suffix
        # (name_min, name_after): a prefix match finds them all. A required filter must still
        # answer 400 when its parameter is missing, so its FilterSet always runs.
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is None:
            names = getattr(self, "filterset_fields", None) or ()
        elif any(f.extra.get("required") for f in filterset_class.base_filters.values()):
            return True
        else:
            names = filterset_class.base_filters
        return any(key.startswith(name) for key in self.request.query_params for name in names)


class KnownOrderingFilter(OrderingFilter):
    """DRF's ordering, with the schema naming the values it takes (others are ignored)."""

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if isinstance(fields, list | tuple):
            for parameter in parameters:
                if parameter["name"] == self.ordering_param:
                    parameter["schema"]["enum"] = [v for f in fields for v in (f, f"-{f}")]
        return parameters
