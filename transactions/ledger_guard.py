"""A PostgreSQL trigger that makes the ledger append-only below the ORM too."""

from django.db import connections

GUARD_SQL = """
CREATE OR REPLACE FUNCTION transactions_ledger_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'ledger rows are never deleted';
    END IF;
    IF NEW.payment_id <> OLD.payment_id
       OR NEW.amount <> OLD.amount
       OR NEW.currency <> OLD.currency
       OR NEW.transaction_type <> OLD.transaction_type
       OR (OLD.status <> 'pending' AND (
            NEW.status <> OLD.status
            OR NEW.gateway_transaction_id <> OLD.gateway_transaction_id)) THEN
        RAISE EXCEPTION 'ledger rows are append-only; only a pending row may settle';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS transactions_ledger_guard ON transactions_transaction;
CREATE TRIGGER transactions_ledger_guard
    BEFORE UPDATE OR DELETE ON transactions_transaction
    FOR EACH ROW EXECUTE FUNCTION transactions_ledger_guard();
"""


def install_ledger_guard(sender, using="default", **kwargs):
    """Create or refresh the trigger after migrate (PostgreSQL only)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(GUARD_SQL)
