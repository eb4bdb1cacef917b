"""Filter pieces shared by every list endpoint."""

from datetime import UTC

import django_filters


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


class FiltersOnListMixin:
    """Apply the filter backends to list only: a detail page has no use for the list's filters.

    DRF's get_object runs filter_queryset, which builds and validates the FilterSet on every
    retrieve (10 % of an order detail in the profile).
    """

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)
