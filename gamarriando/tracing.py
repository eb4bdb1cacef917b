"""OpenTelemetry tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.

When on, Django requests, Celery tasks (their context travels in the message headers),
psycopg queries and outgoing `requests` calls (the Stripe SDK's) are traced, and every
gateway call gets its own span, so one payment can be followed from the API call through
the worker to the gateway. Log lines carry the trace id (gamarriando/logging.py).
"""

import os

from opentelemetry import trace

_configured = False
tracer = trace.get_tracer("gamarriando")
TRACED_OPERATIONS = ("charge", "capture", "void", "refund", "retrieve", "abandon")


def tracing_enabled() -> bool:
    """True when an OTLP endpoint is configured."""
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def configure_tracing(*, exporter=None, simple: bool = False) -> bool:
    """Install the tracer provider and the instrumentations once; return whether tracing is on.

    `exporter` replaces the OTLP exporter (tests pass an in-memory one); `simple` exports each
    span as it ends instead of in batches.
    """
    global _configured
    if _configured:
        return True
    if exporter is None and not tracing_enabled():
        return False
    # Imported here so that a process with tracing off never loads the SDK or patches anything.
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_ENDPOINT and its headers
    service = os.environ.get("OTEL_SERVICE_NAME", "gamarriando-payments")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    processor = SimpleSpanProcessor(exporter) if simple else BatchSpanProcessor(exporter)
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    CeleryInstrumentor().instrument()
    PsycopgInstrumentor().instrument(enable_commenter=False)
    RequestsInstrumentor().instrument()
    _configured = True
    return True


class TracedGateway:
    """A gateway whose calls each run in a span named after the gateway and the operation."""

    def __init__(self, gateway):
        self._gateway = gateway

    def __getattr__(self, name):
        attribute = getattr(self._gateway, name)
        if name not in TRACED_OPERATIONS or not callable(attribute):
            return attribute

        def traced(*args, **kwargs):
            with tracer.start_as_current_span(
                f"gateway {self._gateway.name} {name}",
                kind=trace.SpanKind.CLIENT,
                attributes={
                    "gateway.name": self._gateway.name,
                    "gateway.operation": name,
                    "gateway.idempotency_key": kwargs.get("idempotency_key", ""),
                },
            ):
                return attribute(*args, **kwargs)

        return traced


def traced_gateway(gateway):
    """Wrap a gateway so its calls are spans (no-ops while tracing is off)."""
    return TracedGateway(gateway)


def add_trace_ids(logger, method_name, event_dict):
    """structlog processor: add the current trace and span ids to the log line."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict
