"""The hand-written representations render times exactly as DRF's DateTimeField does."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from rest_framework import serializers

from gamarriando.fields import datetime_data

DRF = serializers.DateTimeField()


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 30, 9, 37, 6, 123456, tzinfo=UTC),
        datetime(2026, 11, 30, 9, 37, 6, tzinfo=UTC),  # no microseconds: none printed
        datetime(2026, 11, 30, 4, 37, 6, 5, tzinfo=timezone(timedelta(hours=-5))),  # Lima
        datetime(2026, 11, 30, 9, 37, 6, 500000),  # naive: taken as UTC, as USE_TZ does
    ],
)
def test_datetime_data_equals_drf(value):
    assert datetime_data(value) == DRF.to_representation(value)
    assert datetime_data(value).endswith("Z")


def test_none_stays_none():
    assert datetime_data(None) is None
