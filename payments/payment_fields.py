"""Input fields of payment requests: the storefront's metadata and a saved method's id."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from payments.saved_selectors import DEFAULT

METADATA_MAX_KEYS = 20
METADATA_MAX_KEY_LENGTH = 40
METADATA_MAX_VALUE_LENGTH = 500


# The checks DRF's CharField runs: PostgreSQL's text and jsonb store neither character.
_TEXT_CHECKS = (ProhibitNullCharactersValidator(), ProhibitSurrogateCharactersValidator())


def _unstorable(text: str) -> bool:
    try:
        for check in _TEXT_CHECKS:
            check(text)
    except (DjangoValidationError, serializers.ValidationError):
        return True
    return False


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": METADATA_MAX_KEYS,
        "additionalProperties": {"type": "string", "maxLength": METADATA_MAX_VALUE_LENGTH},
    }
)
class MetadataField(serializers.Field):
    """Up to 20 string keys (1-40 characters) with string values (up to 500), as Stripe takes."""

    default_error_messages = {
        "not_object": "Send an object of string keys and string values.",
        "too_many": f"At most {METADATA_MAX_KEYS} keys.",
        "bad_key": f"Keys are 1-{METADATA_MAX_KEY_LENGTH} characters, without square brackets.",
        "bad_value": f"Values are strings of at most {METADATA_MAX_VALUE_LENGTH} characters.",
        "bad_text": "Keys and values may not contain NUL or unpaired surrogate characters.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_object")
        if len(data) > METADATA_MAX_KEYS:
            self.fail("too_many")
        for key, value in data.items():
            # Stripe's form encoding reads brackets in a key as nesting.
            if not 1 <= len(key) <= METADATA_MAX_KEY_LENGTH or "[" in key or "]" in key:
                self.fail("bad_key")
            if not isinstance(value, str) or len(value) > METADATA_MAX_VALUE_LENGTH:
                self.fail("bad_value")
            if _unstorable(key) or _unstorable(value):
                self.fail("bad_text")
        return dict(data)

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": 2**62},
            {"type": "string", "enum": [DEFAULT]},
        ]
    }
)
class SavedMethodIdField(serializers.Field):
    """The id of one of the caller's saved methods, or "default" for the Customer's default."""

    default_error_messages = {"invalid": 'Send a saved payment method id or "default".'}

    def to_internal_value(self, data):
        if data == DEFAULT:
            return DEFAULT
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        text = str(data)
        if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) < 1:
            self.fail("invalid")
        return int(text)

    def to_representation(self, value):
        return value
