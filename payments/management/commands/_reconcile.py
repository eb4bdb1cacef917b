"""What `reconcile_stripe` and `reconcile_paypal` share: --since, --dry-run and the report."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from gamarriando.errors import PaymentMethodError


class ReconcileCommand(BaseCommand):
    """Parse --since and --dry-run, reconcile, print what was repaired and what is unmatched."""

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, help="YYYY-MM-DD (UTC)")
        parser.add_argument("--dry-run", action="store_true", help="report only, change nothing")

    def handle(self, *args, since, dry_run, **options):
        try:
            start = datetime.strptime(since, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError as exc:
            raise CommandError("--since must be YYYY-MM-DD") from exc
        try:
            report = self.reconcile(start, repair=not dry_run)
        except PaymentMethodError as exc:  # the gateway's keys are not set here
            raise CommandError(f"{exc.message} Set its credentials to reconcile with it.") from exc
        self.stdout.write(f"checked {report.checked} {self.checked_noun(dry_run)} since {since}")
        for line in report.repaired:
            self.stdout.write(f"repaired: {line}")
        for object_id in report.unmatched:
            self.stdout.write(f"unmatched: {self.unmatched_text(object_id)}")
        if not report.repaired and not report.unmatched:
            self.stdout.write("no differences")

    def reconcile(self, start: datetime, *, repair: bool):
        """Compare the gateway's objects since start with the ledger; return the report."""
        raise NotImplementedError

    def checked_noun(self, dry_run: bool) -> str:
        """What the gateway's checked objects are called in the first line."""
        raise NotImplementedError

    def unmatched_text(self, object_id: str) -> str:
        """One gateway object the ledger does not know."""
        raise NotImplementedError
