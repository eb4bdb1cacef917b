"""App config for the append-only ledger."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TransactionsConfig(AppConfig):
    name = "transactions"
    verbose_name = "Transactions ledger"

    def ready(self):
        from transactions.ledger_guard import install_ledger_guard

        # post_migrate also runs for test databases built without migrations.
        post_migrate.connect(install_ledger_guard, sender=self)
