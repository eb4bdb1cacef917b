"""Compare our ledger with PayPal's captures and refunds since a date; repair or report."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from payments.paypal.reconcile import reconcile_paypal_since


class Command(BaseCommand):
    help = "Reconcile PayPal captures and refunds made since --since (YYYY-MM-DD)."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, help="YYYY-MM-DD (UTC)")
        parser.add_argument("--dry-run", action="store_true", help="report only, change nothing")

    def handle(self, *args, since, dry_run, **options):
        try:
            start = datetime.strptime(since, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError as exc:
            raise CommandError("--since must be YYYY-MM-DD") from exc
        report = reconcile_paypal_since(start, repair=not dry_run)
        noun = "transaction(s)" if dry_run else "order(s)"
        self.stdout.write(f"checked {report.checked} PayPal {noun} since {since}")
        for line in report.repaired:
            self.stdout.write(f"repaired: {line}")
        for object_id in report.unmatched:
            self.stdout.write(f"unmatched: {object_id} is not in our ledger")
        if not report.repaired and not report.unmatched:
            self.stdout.write("no differences")
