"""GET /health/live (liveness) and GET /health (readiness: database, cache, broker)."""

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from gamarriando.celery import app
from gamarriando.logging import get_logger

logger = get_logger(__name__)
PROBE_TTL_SECONDS = 10


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_cache() -> str:
    # A key of its own per call: concurrent checks never read each other's probe.
    key, probe = f"health:probe:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, probe, PROBE_TTL_SECONDS)
    if cache.get(key) != probe:
        raise RuntimeError("cache did not return what was written")
    return "ok"


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "inline"
    # The producer pool's connection, as task sends use it: no new connection per check.
    with app.pool.acquire(block=True, timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        client = getattr(conn.default_channel, "client", None)
        if client is not None:
            client.ping()  # Redis: a pooled connection may be stale, so ask the server itself
    return "ok"


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


@require_GET
def health_live(request):
    """Answer that the process serves requests; touches no dependency."""
    return JsonResponse({"status": "ok"})


@require_GET
def health(request):
    """Report each dependency; 503 when any of them fails."""
    results, healthy = {}, True
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # any failure of a dependency is a failed check
            logger.warning("health_check_failed", check=name, error=str(exc)[:200])
            results[name] = "error"
            healthy = False
    body = {"status": "ok" if healthy else "error", "checks": results}
    if settings.SIMULATED_GATEWAY_IN_PRODUCTION:
        # Allowed by ALLOW_SIMULATED_GATEWAY, but it takes no money: say so wherever ops look.
        body["warnings"] = ["simulated_gateway_enabled"]
    return JsonResponse(body, status=200 if healthy else 503)
