"""Prove that every wallet's figures equal the sum of its entries; exit 1 on drift."""

from django.core.management.base import BaseCommand, CommandError

from wallets.selectors import wallet_drift


class Command(BaseCommand):
    help = "Check every wallet against its entries; exits non-zero when any drifted."

    def handle(self, *args, **options):
        drift = wallet_drift()
        for d in drift:
            self.stderr.write(
                f"wallet {d.wallet_id}: balance {d.balance} held {d.held} version {d.version}; "
                f"entries say balance {d.entries_balance} held {d.entries_held} "
                f"over {d.entries} entries"
            )
        if drift:
            raise CommandError(f"{len(drift)} wallet(s) drifted from their entries.")
        self.stdout.write(self.style.SUCCESS("Every wallet agrees with its entries."))
