"""Prometheus metrics: django-prometheus for HTTP and the database, plus our own."""

import glob
import hmac
import os
import time

from django.conf import settings
from django.db.models import Min
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from gamarriando.events import OutboxEvent

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


class _ProcessFiles:
    """Every process's values: this one's directory and the ones METRICS_SHARED_DIRS names.

    Merged as one collector (two would print each metric twice, which Prometheus refuses);
    compose gives the worker a directory of its own, as each container numbers its processes
    from 1 and the files are named by process id.
    """

    def collect(self):
        shared = os.environ.get("METRICS_SHARED_DIRS", "").split(",")
        paths = [os.environ["PROMETHEUS_MULTIPROC_DIR"], *filter(None, map(str.strip, shared))]
        files = [name for path in paths for name in glob.glob(os.path.join(path, "*.db"))]
        return MultiProcessCollector.merge(files, accumulate=True)


# Read at scrape time from the database, in the scraping process: the same in every process.
_SCRAPE_TIME_COLLECTORS: list = []


def register_scrape_collector(collector) -> None:
    """Register a collector that reads the database at scrape time (once per process)."""
    if collector not in _SCRAPE_TIME_COLLECTORS:
        _SCRAPE_TIME_COLLECTORS.append(collector)
        REGISTRY.register(collector)


register_scrape_collector(DatabaseCollector())


def scrape_registry():
    """What /metrics serves: every process's counters when they share PROMETHEUS_MULTIPROC_DIR.

    gunicorn runs several worker processes and the Celery worker its own: each counts only
    what it handled, so a scrape that reached one of them saw a different count each time.
    With the directory set (gunicorn.conf.py sets one), every process writes its values there
    and a scrape sums them all, plus the directories METRICS_SHARED_DIRS names (compose: the
    worker's).
    """
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    registry.register(_ProcessFiles())
    for collector in _SCRAPE_TIME_COLLECTORS:
        registry.register(collector)
    return registry


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
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
