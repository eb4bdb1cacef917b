"""App config for store credit."""

from django.apps import AppConfig


class WalletsConfig(AppConfig):
    name = "wallets"
    verbose_name = "Store credit"

    def ready(self):
        from wallets.monitoring import register_wallet_monitoring

        register_wallet_monitoring()
