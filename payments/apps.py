"""App config for payments, gateways and their tasks."""

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from payments import handlers  # noqa: F401  (registers event handlers)
