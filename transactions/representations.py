"""A ledger row's JSON shape, built straight from the model (see orders/representations.py)."""

from gamarriando import json_codec
from gamarriando.fields import datetime_data
from gamarriando.json_sql import rendered_json
from gamarriando.money import format_amount


def transaction_data(txn) -> dict:
    """Render one ledger row as transactions.api.TransactionOutputSerializer declares it."""
    rendered = rendered_json(txn)
    if rendered is not None:  # PostgreSQL wrote it (selectors.with_rendered, rendered_rows)
        return json_codec.loads(rendered)  # its integers are ids: none beyond 64 bits
    return {
        "id": txn.pk,
        "payment_id": txn.payment_id,
        "transaction_type": str(txn.transaction_type),
        "amount": format_amount(txn.amount, txn.currency),
        "currency": str(txn.currency),
        "status": str(txn.status),
        "gateway_transaction_id": txn.gateway_transaction_id,
        "failure_reason": txn.failure_reason,
        "reason": txn.reason,
        "created_by": txn.created_by_id,
        "processed_at": datetime_data(txn.processed_at),
        "created_at": datetime_data(txn.created_at),
    }
