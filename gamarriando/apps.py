"""App config for the shared models (idempotency keys, outbox)."""

from django.apps import AppConfig


class GamarriandoConfig(AppConfig):
    name = "gamarriando"
    verbose_name = "Platform"

    def ready(self):
        from gamarriando.logging import configure_structlog

        configure_structlog()
        from gamarriando.tracing import configure_tracing

        configure_tracing()  # a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set
