"""GET /health (readiness) and GET /health/live (liveness): docs/API.md "Operations"."""

import time

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client

from tests.faults.redis_server import RedisServer
from tests.threads import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)
NOWHERE = "redis://127.0.0.1:1/0"


class SlowLocMemCache(LocMemCache):
    """An in-memory cache with a network's round trip, so that concurrent checks interleave."""

    def get(self, *args, **kwargs):
        time.sleep(0.002)
        return super().get(*args, **kwargs)


def test_liveness_touches_nothing(client, settings, use_broker, django_assert_num_queries):
    settings.CACHES = {
        "default": {"BACKEND": "gamarriando.cache.ReusedClientRedisCache", "LOCATION": NOWHERE}
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    use_broker(NOWHERE)
    with django_assert_num_queries(0):
        live = client.get("/health/live")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert client.get("/health/live/").status_code == 200
    ready = client.get("/health")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "error",
        "checks": {"database": "ok", "cache": "error", "broker": "error"},
    }


def test_concurrent_readiness_checks_never_disturb_each_other(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "tests.test_health_readiness.SlowLocMemCache",
            "LOCATION": "health-concurrency",
        }
    }
    codes: list[int] = []

    def check(_):
        client = Client()
        for _ in range(15):
            codes.append(client.get("/health").status_code)

    run_concurrently(8, check)
    assert codes.count(200) == len(codes) == 120, codes


@pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server on the PATH")
def test_readiness_reuses_a_pooled_broker_connection(client, settings, use_broker):
    server = RedisServer().start()
    try:
        settings.CELERY_TASK_ALWAYS_EAGER = False
        use_broker(server.url)
        assert client.get("/health").json()["checks"]["broker"] == "ok"
        before = server.connections_received()
        for _ in range(20):
            assert client.get("/health").json()["checks"]["broker"] == "ok"
        assert server.connections_received() - before <= 1  # the probe's own INFO connection
        server.stop()
        assert client.get("/health").json()["checks"]["broker"] == "error"  # a stale pool is seen
        server.start()
        assert client.get("/health").json()["checks"]["broker"] == "ok"  # and heals
    finally:
        server.stop()
