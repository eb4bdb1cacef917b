"""App config for payments, gateways and their tasks."""

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        import stripe
        from django.conf import settings

        from payments import handlers  # noqa: F401  (registers event handlers)
        from payments.monitoring import register_payment_monitoring
        from payments.stripe.events import register_receivers

        register_receivers()
        register_payment_monitoring()
        # Our tasks retry with backoff and the same idempotency key; the SDK must not retry too.
        stripe.max_network_retries = 0
        stripe.default_http_client = stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS)
