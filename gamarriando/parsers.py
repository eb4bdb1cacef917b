"""JSON parsing bounded in size and nesting depth, with every fraction parsed as a Decimal."""

import json
import re
from decimal import Decimal, InvalidOperation
from itertools import accumulate

from django.conf import settings
from django.utils.http import parse_header_parameters
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils.mediatypes import media_type_matches

from gamarriando.errors import UnsupportedCharset, UnsupportedMediaType, ValidationFailed

# A JSON string, escapes included; an unterminated one runs to the end. Each step starts on a
# different character, so the match never backtracks: linear in the body.
JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
BRACKETS = re.compile(r"[\[\]{}]")
DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class BodyRefused(ValidationFailed):
    """A body refused before parsing: too large or nested too deeply."""

    def __init__(self, message: str):
        super().__init__(message, details={"body": [message]})


# UTF-8, and ASCII, which is UTF-8 too.
UTF_8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def check_charset(content_type: str | None) -> None:
    """Refuse a body whose declared charset is not UTF-8, the only one JSON has (RFC 8259).

    The card-data guard and the parser then read the same text: a body declared in another
    charset (UTF-7, EBCDIC) could hide a card number from one and show it to the other.

    Raises:
        UnsupportedCharset: a charset other than UTF-8 is declared.
    """
    charset = parse_header_parameters(content_type or "")[1].get("charset")
    if charset is not None and charset.strip().lower() not in UTF_8:
        raise UnsupportedCharset(details={"charset": [f"{charset[:40]} is not UTF-8."]})


class MalformedBody(ValidationFailed):
    """A body that is not JSON, refused as the parser refuses it (VALIDATION_ERROR, 400)."""

    def __init__(self, message: str):
        super().__init__(message, details={})


def check_json_media_type(content_type: str | None) -> None:
    """Refuse a body whose declared type is not one the API's parsers read (only JSON).

    Raises:
        UnsupportedMediaType: a form, plain text, no type at all, or anything else.
    """
    if not any(
        media_type_matches(parser.media_type, content_type or "")
        for parser in api_settings.DEFAULT_PARSER_CLASSES
    ):
        raise UnsupportedMediaType(
            details={"content_type": [f"{(content_type or 'none')[:60]} is not JSON."]}
        )


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _decimal(text: str) -> Decimal:
    # An exponent beyond Decimal's range (1e9999999999999999999) raises InvalidOperation, an
    # ArithmeticError: made a ValueError, it is a malformed body like any other.
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"the number {text[:32]} is out of range") from exc


def check_body_size(size: int) -> None:
    """Refuse a body above API_MAX_BODY_BYTES.

    Raises:
        BodyRefused: the body is too large.
    """
    if size > settings.API_MAX_BODY_BYTES:
        raise BodyRefused(f"The body is larger than {settings.API_MAX_BODY_BYTES} bytes.")


def check_nesting(text: str) -> None:
    """Refuse JSON text nested deeper than API_MAX_JSON_DEPTH, without parsing it.

    Raises:
        BodyRefused: the arrays and objects nest too deeply.
    """
    limit = settings.API_MAX_JSON_DEPTH
    if text.count("[") + text.count("{") <= limit:
        return  # the common case: too few brackets to nest that deep at all
    outside_strings = JSON_STRING.sub("", text)
    steps = map(DEPTH_STEP.__getitem__, BRACKETS.findall(outside_strings))
    if max(accumulate(steps), default=0) > limit:
        raise BodyRefused(f"The JSON nests arrays and objects deeper than {limit} levels.")


def loads_bounded(raw: bytes):
    """Parse a UTF-8 JSON body within the size and depth limits, fractions as Decimal.

    Raises:
        BodyRefused: the body is too large or nested too deeply.
        ValueError: the body is not UTF-8 JSON (UnicodeDecodeError included).
    """
    check_body_size(len(raw))
    # Decode first, then count brackets in the same text json reads: the card guard and the
    # parser both read UTF-8 (check_charset refuses any other declared charset).
    text = raw.decode("utf-8")
    check_nesting(text)
    return json.loads(text, parse_float=_decimal, parse_constant=_reject_constant)


class DecimalJSONParser(JSONParser):
    """Parse bounded JSON with Decimal for non-integers, so money never passes through float."""

    def parse(self, stream, media_type=None, parser_context=None):
        check_charset(media_type)
        # One byte past the limit is enough to know the body is too large.
        raw = stream.read(settings.API_MAX_BODY_BYTES + 1) if stream is not None else b""
        try:
            return loads_bounded(raw)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
