"""Prometheus metrics: django-prometheus for HTTP and the database, plus our own."""

import hmac
import time

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpResponse
from django.utils import timezone
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

GATEWAY_LATENCY = Histogram(
    "gamarriando_gateway_call_seconds",
    "Gateway call latency",
    ["gateway", "operation", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
REFUNDS = Counter("gamarriando_refunds_total", "Refunds settled", ["status"])
WEBHOOK_EVENTS = Counter(
    "gamarriando_stripe_webhook_events_total",
    "Stripe webhook events received",
    ["type", "duplicate"],
)
TASK_RETRIES = Counter("gamarriando_task_retries_total", "Celery task retries", ["task"])


class DatabaseCollector:
    """Figures read from the database at scrape time, so every process reports the same truth."""

    def describe(self):
        return []  # keeps registration from querying the database at import time

    def collect(self):
        from gamarriando.events import OutboxEvent
        from payments.models import Payment

        payments = GaugeMetricFamily(
            "gamarriando_payments", "Payments by status and gateway", labels=["status", "gateway"]
        )
        for row in (
            Payment.objects.values("status", "payment_method")
            .annotate(count=Count("pk"))
            .order_by()
        ):
            payments.add_metric([row["status"], row["payment_method"]], row["count"])
        yield payments
        oldest = OutboxEvent.objects.filter(dispatched_at__isnull=True).aggregate(
            oldest=Min("created_at")
        )["oldest"]
        lag = GaugeMetricFamily(
            "gamarriando_outbox_lag_seconds", "Age of the oldest undelivered outbox event"
        )
        lag.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield lag


_collector = DatabaseCollector()
REGISTRY.register(_collector)


def observe_gateway_call(gateway: str, operation: str, outcome: str, started: float) -> None:
    """Record one gateway call's latency."""
    GATEWAY_LATENCY.labels(gateway, operation, outcome).observe(time.perf_counter() - started)


def metrics_view(request):
    """Serve /metrics to loopback callers or to a caller with the metrics token."""
    token = settings.METRICS_TOKEN
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    loopback = (
        request.META.get("REMOTE_ADDR") in ("127.0.0.1", "::1")
        and "HTTP_X_FORWARDED_FOR" not in request.META
    )
    if not (loopback or (token and hmac.compare_digest(supplied, token))):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return ExportToDjangoView(request)
