"""The Redis cache backend that reuses its client objects still behaves as Django's."""

import os
import uuid

import pytest
import redis
from django.core.cache.backends.redis import RedisCache

from gamarriando.cache import ReusedClientRedisCache
from tests.threads import run_concurrently

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/14"


@pytest.fixture
def cache():
    try:
        redis.Redis.from_url(URL, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not reachable")
    return ReusedClientRedisCache(URL, {"KEY_PREFIX": f"test-cache-{uuid.uuid4().hex}"})


def test_one_client_per_pool_is_built_once(cache):
    client = cache._cache
    assert client.get_client(write=True) is client.get_client(write=True)
    assert client.get_client() is client.get_client("any key")
    # Django's own backend builds a new one on every call: the difference this file is for.
    django_client = RedisCache(URL, {})._cache
    assert django_client.get_client() is not django_client.get_client()


def test_it_reads_and_writes_as_djangos(cache):
    other = RedisCache(URL, {"KEY_PREFIX": cache.key_prefix})
    assert cache.add("k", {"a": 1}, 30) is True
    assert cache.add("k", "again", 30) is False
    assert other.get("k") == {"a": 1}  # the same keys and encoding as Django's backend
    cache.set("n", 1, 30)
    assert cache.incr("n", 2) == 3
    cache.delete("k")
    assert cache.get("k", "gone") == "gone"


def test_threads_share_it(cache):
    def bump(_):
        for _ in range(50):
            cache.incr("shared")

    cache.set("shared", 0, 30)
    assert run_concurrently(4, bump) == [None] * 4
    assert cache.get("shared") == 200
