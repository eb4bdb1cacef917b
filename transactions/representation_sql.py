"""A ledger row's JSON shape built by PostgreSQL, equal to representations.transaction_data.

On PostgreSQL the ledger page's statement returns each row already as the contract's JSON
text (gamarriando/json_sql.py says why), keys in transaction_data's order. Every value comes
from a text, integer, amount or time column, so the text decodes to the answer as it is.
transactions/tests/test_transaction_json_sql.py holds the two renderings equal.
"""

from gamarriando.json_sql import amount_text, time_text

_ROW = "{row}"
TRANSACTION_JSON_SQL = f"""
    json_build_object(
        'id', {_ROW}.id, 'payment_id', {_ROW}.payment_id,
        'transaction_type', {_ROW}.transaction_type,
        'amount', {amount_text(f"{_ROW}.amount", f"{_ROW}.currency")},
        'currency', {_ROW}.currency, 'status', {_ROW}.status,
        'gateway_transaction_id', {_ROW}.gateway_transaction_id,
        'failure_reason', {_ROW}.failure_reason, 'reason', {_ROW}.reason,
        'created_by', {_ROW}.created_by_id,
        'processed_at', {time_text(f"{_ROW}.processed_at")},
        'created_at', {time_text(f"{_ROW}.created_at")}
    )::text
"""
