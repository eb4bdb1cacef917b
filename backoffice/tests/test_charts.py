"""The dashboard's charts write money exactly, in its currency's decimals."""

from decimal import Decimal
from functools import partial

from backoffice.charts import bar_chart
from gamarriando.money import format_amount


def test_money_is_written_exactly_not_through_a_float():
    svg = bar_chart(
        [("11-25", Decimal("836.90")), ("11-26", Decimal("12345.67")), ("11-27", Decimal("0"))],
        title="Amount per day (PEN)",
        unit=" PEN",
        shown=partial(format_amount, currency="PEN"),
    )
    assert "11-25: 836.90 PEN" in svg and "11-27: 0.00 PEN" in svg
    assert "max 12345.67 PEN" in svg and "12345.7" not in svg


def test_yen_has_no_decimals_and_no_exponent():
    svg = bar_chart(
        [("11-25", Decimal("1234567"))],
        title="Amount per day (JPY)",
        unit=" JPY",
        shown=partial(format_amount, currency="JPY"),
    )
    assert "11-25: 1234567 JPY" in svg and "max 1234567 JPY" in svg and "e+" not in svg


def test_counts_and_averages_keep_their_plain_form():
    svg = bar_chart([("stripe", 412.5), ("simulated", 3)], title="latency", unit=" ms")
    assert "stripe: 412.5 ms" in svg and "simulated: 3 ms" in svg


def test_chart_text_takes_the_page_colour_so_the_dark_theme_can_read_it():
    svg = bar_chart([("11-25", 3), ("11-26", 5)], title="Payments per day")
    texts = svg.count("<text ")
    assert texts >= 3 and svg.count('<text fill="currentColor"') == texts
