"""Recognise raw card numbers and CVV-like field names so they are never accepted."""

import re

# 13-19 digits, alone or grouped by single spaces or dashes.
CARD_CANDIDATE = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
CVV_FIELD = re.compile(r"(cvv|cvc|cvn|csc|card_?number|cardnumber)", re.IGNORECASE)


def luhn_valid(digits: str) -> bool:
    """Tell whether a string of digits passes the Luhn checksum."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    """Tell whether text holds something that looks like a card number."""
    for match in CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def find_card_data(value, path: str = "") -> str | None:
    """Return the path of the first field holding card data, or None."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if CVV_FIELD.search(str(key)):
                return child
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
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int)) and contains_card_number(str(value)):
        return path or "body"
    return None
