"""The order's JSON shape built by PostgreSQL, equal to orders.representations.order_data.

On PostgreSQL the order's statement returns each order already as the contract's JSON text
(gamarriando/json_sql.py says why): amounts as money.format_amount writes them, times as
fields.datetime_data does, keys in order_data's order. representations.order_data decodes
it and renders itself the two parts whose stored values are free-form (the addresses and
the payments' metadata).
orders/tests/test_order_json_sql.py holds the two renderings equal.
"""

from functools import cache

from gamarriando.json_sql import amount_text, time_text
from orders.models import Order, OrderItem


@cache
def order_json_sql() -> str:
    """Return the expression rendering the order aliased {row} (see selectors.with_details)."""
    # Built once, on first use rather than at import: the payment table is named through the
    # relation (orders never imports payments), which needs every app loaded.
    items = OrderItem._meta.db_table
    payments = Order._meta.get_field("payments").related_model._meta.db_table
    o = "{row}"
    return f"""
        json_build_object(
            'id', {o}.id, 'order_number', {o}.order_number, 'status', {o}.status,
            'currency', {o}.currency,
            'total_amount', {amount_text(f"{o}.total_amount", f"{o}.currency")},
            'amount_paid', {amount_text(f"{o}.amount_paid", f"{o}.currency")},
            'amount_refunded', {amount_text(f"{o}.amount_refunded", f"{o}.currency")},
            'balance_due', {amount_text(f"{o}.total_amount - {o}.amount_paid", f"{o}.currency")},
            'items', (
                SELECT coalesce(json_agg(json_build_object(
                    'id', i.id, 'product_id', i.product_id, 'quantity', i.quantity,
                    'unit_price', {amount_text("i.unit_price", f"{o}.currency")},
                    'total_price', {amount_text("i.total_price", f"{o}.currency")}
                ) ORDER BY i.id), '[]')
                FROM {items} i WHERE i.order_id = {o}.id
            ),
            'shipping_address', {o}.shipping_address,
            'billing_address', {o}.billing_address,
            'notes', {o}.notes,
            'payments', (
                SELECT coalesce(json_agg(json_build_object(
                    'id', p.id, 'payment_method', p.payment_method,
                    'amount', {amount_text("p.amount", "p.currency")},
                    'currency', p.currency, 'status', p.status,
                    'captured_amount', {amount_text("p.captured_amount", "p.currency")},
                    'refunded_amount', {amount_text("p.refunded_amount", "p.currency")},
                    'metadata', p.metadata, 'wallet', p.wallet,
                    'created_at', {time_text("p.created_at")}
                ) ORDER BY p.id), '[]')
                FROM {payments} p WHERE p.order_id = {o}.id
            ),
            'created_at', {time_text(f"{o}.created_at")},
            'updated_at', {time_text(f"{o}.updated_at")},
            'expires_at', {time_text(f"{o}.expires_at")}
        )::text
    """  # noqa: S608 - our own table and column names only; nothing from the request
