"""Money as the back office shows it: in the currency's own decimals, with its code."""

from django import template

from gamarriando import money

register = template.Library()


@register.filter(name="money")
def money_filter(amount, currency: str) -> str:
    """Render `{{ amount|money:currency }}` as "4800 JPY" or "59.98 PEN"."""
    if amount is None or currency not in money.CURRENCY_EXPONENTS:
        return "" if amount is None else f"{amount} {currency}"
    return money.with_currency(amount, currency)
