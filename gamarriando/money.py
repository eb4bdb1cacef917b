"""Decimal money helpers: currency exponents, quantizing, minor units. No floats."""

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents for the currencies we sell in.
CURRENCY_EXPONENTS = {
    "PEN": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "MXN": 2,
    "BRL": 2,
    "JPY": 0,
    "CLP": 0,
}
# The smallest amount of each currency, as the quantum Decimal.quantize rounds to.
_MINOR_UNITS = {code: Decimal(1).scaleb(-places) for code, places in CURRENCY_EXPONENTS.items()}
DEFAULT_CURRENCY = "PEN"
MAX_AMOUNT = Decimal("99999999.99")
ZERO = Decimal("0")
AMOUNT_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_CENT = Decimal("0.01")  # the finest minor unit of any currency we sell in


class MoneyError(ValueError):
    """An amount or currency that the contract does not accept."""


def normalize_currency(value) -> str:
    """Return the upper-case ISO code, or raise MoneyError for an unknown one."""
    # ASCII letters only: "uſd" (long s) upper-cases to "USD" and is no ISO code.
    if not isinstance(value, str) or len(value) != 3 or not (value.isascii() and value.isalpha()):
        raise MoneyError("Currency must be a three-letter ISO 4217 code.")
    code = value.upper()
    if code not in CURRENCY_EXPONENTS:
        raise MoneyError(f"Currency {code} is not supported.")
    return code


def exponent(currency: str) -> int:
    """Return how many decimals the currency has."""
    return CURRENCY_EXPONENTS[currency]


def minor_unit(currency: str) -> Decimal:
    """Return the currency's smallest amount (0.01 PEN, 1 JPY)."""
    return _MINOR_UNITS[currency]


def largest_amount(currency: str) -> Decimal:
    """Return the cap in the currency's own decimals (99999999 JPY, 99999999.99 PEN)."""
    return MAX_AMOUNT.quantize(_MINOR_UNITS[currency], rounding=ROUND_DOWN)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round an amount to the currency's minor unit (half up)."""
    return amount.quantize(_MINOR_UNITS[currency], rounding=ROUND_HALF_UP)


def parse_amount(value) -> Decimal:
    """Turn a JSON string or number into a positive, finite Decimal within the cap."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise MoneyError("Amount must be a decimal string or a number.")
    # Decimal() also reads " 10", "1_0", "+10", ".5", "1e2" and other scripts' digits ("١٠"):
    # a string amount is the contract's plain form, ASCII digits with an optional fraction.
    if isinstance(value, str) and not AMOUNT_TEXT.fullmatch(value):
        raise MoneyError('Amount must be a decimal string such as "59.98".')
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError("Amount must be a decimal number.") from exc
    if not amount.is_finite():
        raise MoneyError("Amount must be a finite number.")
    if amount <= ZERO:
        raise MoneyError("Amount must be greater than zero.")
    if amount > MAX_AMOUNT:
        raise MoneyError(f"Amount must not exceed {MAX_AMOUNT}.")
    # Decimals are the value's, as check_scale counts them: "59.990" is 59.99, "900.0" is 900.
    if amount != amount.quantize(_CENT):
        raise MoneyError("Amount has more decimals than any currency allows.")
    return amount


def check_scale(amount: Decimal, currency: str) -> Decimal:
    """Return the amount quantized, or raise if it has more decimals than the currency."""
    if amount != amount.quantize(minor_unit(currency)):
        raise MoneyError(f"{currency} amounts allow at most {exponent(currency)} decimals.")
    return quantize(amount, currency)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Convert to the integer a gateway wants (59.98 PEN -> 5998, 5998 JPY -> 5998)."""
    return int(quantize(amount, currency).scaleb(exponent(currency)))


def from_minor_units(value: int, currency: str) -> Decimal:
    """Convert a gateway's integer amount back to a Decimal."""
    return quantize(Decimal(value).scaleb(-exponent(currency)), currency)


def format_amount(amount: Decimal, currency: str) -> str:
    """Render an amount as the contract's decimal string."""
    return str(quantize(amount if isinstance(amount, Decimal) else Decimal(amount), currency))


def with_currency(amount: Decimal, currency: str) -> str:
    """Render an amount and its currency as people read them: "4800 JPY", "59.98 PEN"."""
    return f"{format_amount(amount, currency)} {currency}"
