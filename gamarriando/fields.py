"""Serializer fields shared by every app: money in and out, currency, addresses."""

from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gamarriando import money


def datetime_data(value):
    """Render a datetime as the contract's ISO 8601 in UTC, as DRF's DateTimeField does."""
    # DRF's field asks Django for the active time zone on every value (a thread-local read
    # that was a tenth of an order list); the contract and TIME_ZONE are UTC and nothing
    # activates another zone, so the hand-written representations convert to UTC directly.
    # tests/test_datetime_data.py holds the two equal.
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# The fraction's length is the currency's business (JPY none, PEN two; "59.990" is 59.99):
# the server checks it against the order's currency, so the pattern allows any.
@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": r"^\d+(\.\d+)?$", "example": "59.98"},
            {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 99999999.99},
        ]
    }
)
class MoneyInputField(serializers.Field):
    """Accept a decimal string or a JSON number; refuse floats' NaN, zero, negatives, overflow."""

    default_error_messages = {"invalid": "{message}"}

    def to_internal_value(self, data) -> Decimal:
        try:
            return money.parse_amount(data)
        except money.MoneyError as exc:
            self.fail("invalid", message=str(exc))

    def to_representation(self, value):
        return str(value)


class CurrencyField(serializers.CharField):
    """Accept a currency code in any case; answer it upper-case."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("min_length", 3)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return money.normalize_currency(value)
        except money.MoneyError as exc:
            raise serializers.ValidationError(str(exc)) from exc


@extend_schema_field({"type": "string", "format": "decimal", "example": "59.98"})
class MoneyOutputField(serializers.Field):
    """Render an amount as a string quantized to its object's currency."""

    def __init__(self, currency_attr: str = "currency", **kwargs):
        self.currency_attr = currency_attr
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return (super().get_attribute(instance), self._currency(instance))

    def _currency(self, instance):
        value = instance
        for part in self.currency_attr.split("."):
            value = getattr(value, part)
        return value

    def to_representation(self, value):
        amount, currency = value
        return money.format_amount(amount, currency)


class AddressSerializer(serializers.Serializer):
    """A postal address, replaced whole: every part is required, in a partial update too."""

    street = serializers.CharField(max_length=255)
    city = serializers.CharField(max_length=120)
    state = serializers.CharField(max_length=120)
    postal_code = serializers.CharField(max_length=20)
    country = serializers.CharField(max_length=120)

    def to_internal_value(self, data):
        # DRF skips a missing field when the root serializer is partial (PATCH), and the
        # stored address would lose that part; an address has no meaning in pieces.
        if isinstance(data, Mapping) and getattr(self.root, "partial", False):
            required = serializers.Field.default_error_messages["required"]
            missing = {name: [required] for name in self.fields if name not in data}
            if missing:
                raise serializers.ValidationError(missing)
        return super().to_internal_value(data)
