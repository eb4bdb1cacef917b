"""Recognise raw card numbers and CVV-like field names so they are never accepted or logged."""

import functools
import re
import unicodedata
from decimal import Decimal

# What may stand between the digit groups of one typed or pasted card number: any Unicode
# whitespace (tabs, line breaks, no-break and other spaces), every Unicode dash (category Pd,
# listed here because re has no category classes; a test compares it with unicodedata) and
# the minus sign, the invisible format characters a copy and paste carries (soft hyphen,
# zero-width space and joiners, direction marks, word joiner and invisible operators, byte
# order mark), and . / _ ,
SEPARATOR = (
    r"[\s"
    r"\-\u058a\u05be\u1400\u1806\u2010-\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d\u301c"
    r"\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead\u2212"
    r"\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    r"./_,]"
)
# A digit run: 13 or more digits, each joined to the next by up to three separators, so
# "4111 1111 1111 1111", "4111.1111...", "4111\t1111...", "4111 - 1111..." and "51 4111..." are
# one run each. Separators and digits are disjoint and their count is bounded, and a run never
# starts inside another, so a scan stays linear in the text.
DIGIT_RUN = re.compile(rf"(?<!\d)\d(?:{SEPARATOR}{{0,3}}\d){{12,}}")
NON_DIGITS = re.compile(r"\D")
CVV_FIELD = re.compile(r"(cvv|cvc|cvn|csc|card_?number|cardnumber)", re.IGNORECASE)
# Identifiers we or our clients generate; their digit groups are not card holders' data.
KNOWN_IDENTIFIERS = re.compile(
    r"GAM-\d{8}-[0-9A-F]{10}"  # our order numbers (orders.services._order_number)
    # UUIDs, also glued to a prefix or suffix ("order_<uuid>": "_" is a word character, so \b
    # would not see where the UUID starts)
    r"|(?<![0-9a-fA-F])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}(?![0-9a-fA-F])"
)
# Issuer prefixes of the card networks and the lengths their numbers have: a Luhn-valid window
# that starts with none of these is an order number, a phone number or a timestamp, not a card.
CARD_RANGES = (
    ("4", "4", range(13, 20)),  # Visa
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard 2-series
    ("2200", "2204", range(16, 20)),  # Mir
    ("34", "34", (15,)),  # American Express
    ("37", "37", (15,)),
    ("300", "305", range(14, 20)),  # Diners Club
    ("3095", "3095", range(14, 20)),
    ("36", "36", range(14, 20)),
    ("38", "39", range(16, 20)),
    ("3528", "3589", range(16, 20)),  # JCB
    ("50", "50", range(13, 20)),  # Maestro
    ("56", "69", range(13, 20)),  # Maestro, Discover, UnionPay, RuPay, Elo, Cabal
)
# Nobody types a card number inside a run this long; scanning every window of it would let one
# request buy seconds of CPU, so such a run counts as card-like (refused, or redacted in logs).
MAX_RUN_DIGITS = 64
REDACTED = "[REDACTED]"
# Luhn: a doubled digit, its two digits added up.
DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_valid(digits: str) -> bool:
    """Tell whether a string of digits passes the Luhn checksum."""
    backwards = digits[::-1]
    total = sum(map(int, backwards[0::2])) + sum(DOUBLED[int(char)] for char in backwards[1::2])
    return total % 10 == 0


@functools.cache
def _issued_lengths(prefix: str) -> frozenset[int]:
    """Return the lengths a card starting with these four digits may have (empty: none)."""
    return frozenset(
        length
        for low, high, lengths in CARD_RANGES
        if low <= prefix[: len(low)] <= high
        for length in lengths
    )


def _run_digits(run: str) -> str:
    digits = NON_DIGITS.sub("", run)
    if not digits.isascii():  # other scripts' digits (e.g. full-width) count as their values
        digits = "".join(str(unicodedata.decimal(char)) for char in digits)
    return digits


def _run_is_card_like(run: str) -> bool:
    """Tell whether any 13-19-digit window of a run is a Luhn-valid, issued-shape card number."""
    digits = _run_digits(run)
    if len(digits) > MAX_RUN_DIGITS:
        return True
    for start in range(len(digits) - 12):
        for length in _issued_lengths(digits[start : start + 4]):
            window = digits[start : start + length]
            if len(window) == length and luhn_valid(window):
                return True
    return False


def _masked(text: str) -> str:
    """Blank out known identifiers with as many "#" as they had characters (offsets stay)."""
    return KNOWN_IDENTIFIERS.sub(lambda match: "#" * len(match.group(0)), text)


def _card_runs(text: str):
    """Yield the (start, end) of every digit run of text that holds a card number."""
    for match in DIGIT_RUN.finditer(_masked(text)):
        if _run_is_card_like(match.group(0)):
            yield match.span()


def contains_card_number(text: str) -> bool:
    """Tell whether text holds something that looks like a card number."""
    return next(_card_runs(text), None) is not None


def is_card_number(text: str) -> bool:
    """Tell whether text is a card number and nothing else (for an Idempotency-Key).

    Ids are only refused when they are a card number: inside a longer id, digit runs are
    dates, counters and random hex ("order-20261201-000042-1234567890"), not card data.
    """
    text = text.strip()
    return (
        bool(DIGIT_RUN.fullmatch(text))
        and 13 <= len(_run_digits(text)) <= 19
        and (_run_is_card_like(text))
    )


def redact_card_numbers(text: str) -> str:
    """Replace every digit run that holds a card number with a marker, keeping the rest."""
    pieces, position = [], 0
    for start, end in _card_runs(text):
        pieces += [text[position:start], REDACTED]
        position = end
    return "".join(pieces) + text[position:] if pieces else text


def _scalar_text(value) -> str | None:
    """Return the text of a scalar that could carry digits, or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int)):
        return str(value)
    # A card number sent as a JSON number with a fraction ("4111111111111111.0"); adjusted()
    # keeps a huge exponent from expanding into millions of digits.
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() < MAX_RUN_DIGITS:
        return str(int(value))
    return None


def find_card_data(value, path: str = "") -> str | None:
    """Return the path of the first field holding card data, or None."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if CVV_FIELD.search(str(key)):
                return child
            if contains_card_number(str(key)):
                return path or "body"  # naming the key would echo the number back
            found = find_card_data(item, child)
            if found:
                return found
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = find_card_data(item, f"{path}[{index}]")
            if found:
                return found
        return None
    text = _scalar_text(value)
    if text is not None and contains_card_number(text):
        return path or "body"
    return None
