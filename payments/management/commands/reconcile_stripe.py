"""Compare our ledger with Stripe's PaymentIntents and refunds since a date; repair or report."""

from payments.management.commands._reconcile import ReconcileCommand
from payments.stripe.reconcile import reconcile_stripe_since


class Command(ReconcileCommand):
    help = "Reconcile Stripe PaymentIntents and refunds created since --since (YYYY-MM-DD)."

    def reconcile(self, start, *, repair):
        return reconcile_stripe_since(start, repair=repair)

    def checked_noun(self, dry_run):
        return "PaymentIntent(s)"

    def unmatched_text(self, object_id):
        return f"{object_id} has no payment here"
