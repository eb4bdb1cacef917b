"""The order's JSON shape built by PostgreSQL, equal to orders.representations.order_data.

An order page spent most of its time turning rows into model objects, decimals and datetimes
and those back into text (docs/benchmarks.md, round 4). On PostgreSQL the order's statement
returns each order already as the contract's JSON text: amounts rounded to the currency's
minor unit half up, as money.format_amount does, times in UTC as datetime_data writes them,
keys in order_data's order. representations.order_data decodes it and renders the two parts
whose stored values are free-form (the addresses and the payments' metadata) itself.
orders/tests/test_order_json_sql.py holds the two renderings equal.
"""

from functools import cache

from gamarriando.money import CURRENCY_EXPONENTS
from orders.models import Order, OrderItem


def _amount(column: str, currency: str) -> str:
    """SQL for money.format_amount: PostgreSQL's round() on numeric also rounds half up."""
    places: dict[int, list[str]] = {}
    for code, exponent in sorted(CURRENCY_EXPONENTS.items()):
        places.setdefault(exponent, []).append(code)
    cases = " ".join(
        f"WHEN {currency} IN ({', '.join(repr(code) for code in codes)}) "
        f"THEN round({column}, {exponent})"
        for exponent, codes in sorted(places.items())
    )
    return f"(CASE {cases} END)::text"


def _time(column: str) -> str:
    """SQL for fields.datetime_data: UTC, "Z", microseconds only when there are any."""
    utc = f"{column} AT TIME ZONE 'UTC'"
    return (
        f"CASE WHEN date_trunc('second', {column}) = {column} "
        f"""THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') """
        f"""ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
    )


@cache
def order_json_sql() -> str:
    """The expression that renders the order aliased {order} (see selectors.with_details)."""
    # Built once, on first use rather than at import: the payment table is named through the
    # relation (orders never imports payments), which needs every app loaded.
    items = OrderItem._meta.db_table
    payments = Order._meta.get_field("payments").related_model._meta.db_table
    o = "{order}"
    return f"""
        json_build_object(
            'id', {o}.id, 'order_number', {o}.order_number, 'status', {o}.status,
            'currency', {o}.currency,
            'total_amount', {_amount(f"{o}.total_amount", f"{o}.currency")},
            'amount_paid', {_amount(f"{o}.amount_paid", f"{o}.currency")},
            'amount_refunded', {_amount(f"{o}.amount_refunded", f"{o}.currency")},
            'balance_due', {_amount(f"{o}.total_amount - {o}.amount_paid", f"{o}.currency")},
            'items', (
                SELECT coalesce(json_agg(json_build_object(
                    'id', i.id, 'product_id', i.product_id, 'quantity', i.quantity,
                    'unit_price', {_amount("i.unit_price", f"{o}.currency")},
                    'total_price', {_amount("i.total_price", f"{o}.currency")}
                ) ORDER BY i.id), '[]')
                FROM {items} i WHERE i.order_id = {o}.id
            ),
            'shipping_address', {o}.shipping_address,
            'billing_address', {o}.billing_address,
            'notes', {o}.notes,
            'payments', (
                SELECT coalesce(json_agg(json_build_object(
                    'id', p.id, 'payment_method', p.payment_method,
                    'amount', {_amount("p.amount", "p.currency")},
                    'currency', p.currency, 'status', p.status,
                    'captured_amount', {_amount("p.captured_amount", "p.currency")},
                    'refunded_amount', {_amount("p.refunded_amount", "p.currency")},
                    'metadata', p.metadata, 'wallet', p.wallet,
                    'created_at', {_time("p.created_at")}
                ) ORDER BY p.id), '[]')
                FROM {payments} p WHERE p.order_id = {o}.id
            ),
            'created_at', {_time(f"{o}.created_at")},
            'updated_at', {_time(f"{o}.updated_at")},
            'expires_at', {_time(f"{o}.expires_at")}
        )::text
    """  # noqa: S608 - our own table and column names only; nothing from the request
