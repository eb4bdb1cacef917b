"""Compare our ledger with PayPal's captures and refunds since a date; repair or report."""

from payments.management.commands._reconcile import ReconcileCommand
from payments.paypal.reconcile import reconcile_paypal_since


class Command(ReconcileCommand):
    help = "Reconcile PayPal captures and refunds made since --since (YYYY-MM-DD)."

    def reconcile(self, start, *, repair):
        return reconcile_paypal_since(start, repair=repair)

    def checked_noun(self, dry_run):
        return "PayPal transaction(s)" if dry_run else "PayPal order(s)"

    def unmatched_text(self, object_id):
        return f"{object_id} is not in our ledger"
