"""Prometheus metrics: django-prometheus for HTTP and the database, plus our own."""

import hmac
import time

from django.conf import settings
from django.db.models import Min
from django.http import HttpResponse
from django.utils import timezone
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from gamarriando.events import OutboxEvent

GATEWAY_LATENCY = Histogram(
    "gamarriando_gateway_call_seconds",
    "Gateway call latency",
    ["gateway", "operation", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
REFUNDS = Counter("gamarriando_refunds_total", "Refunds settled", ["status"])
PAYMENT_AMOUNT = Counter(
    "gamarriando_payment_amount_total",
    "Money captured by payments, in major units (exposition only: money stays Decimal)",
    ["currency", "payment_method"],
)
WEBHOOK_EVENTS = Counter(
    "gamarriando_stripe_webhook_events_total",
    "Stripe webhook events received",
    ["type", "duplicate"],
)


class DatabaseCollector:
    """The outbox lag, read at scrape time; apps register their own collectors (payments/monitoring.py)."""

    def describe(self):
        return []  # keeps registration from querying the database at import time

    def collect(self):
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
    """Serve /metrics to a caller with the metrics token, or to loopback where that is allowed."""
    token = settings.METRICS_TOKEN
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    loopback = (
        settings.METRICS_ALLOW_LOOPBACK
        and request.META.get("REMOTE_ADDR") in ("127.0.0.1", "::1")
        and "HTTP_X_FORWARDED_FOR" not in request.META
    )
    if not (loopback or (token and hmac.compare_digest(supplied, token))):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return ExportToDjangoView(request)
