"""The Redis cache backend that reuses its client objects still behaves as Django's."""

import os
import uuid

import pytest
import redis
from django.core.cache.backends.redis import RedisCache

from gamarriando.cache import ReusedClientRedisCache

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/11"


@pytest.fixture
def reachable():
    try:
        redis.Redis.from_url(URL, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not reachable")


@pytest.fixture
def cache(reachable):
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


def test_reads_spread_over_the_read_servers_and_writes_go_to_the_first(reachable):
    """Several LOCATIONs: the first takes writes, reads go to any other, as in Django's."""
    base = URL.rsplit("/", 1)[0]
    servers = [f"{base}/{db}" for db in (11, 10, 9)]
    cache = ReusedClientRedisCache(",".join(servers), {"KEY_PREFIX": f"spread-{uuid.uuid4().hex}"})
    key = cache.make_and_validate_key("where")
    for db, url in enumerate(servers):
        redis.Redis.from_url(url).set(key, cache._cache._serializer.dumps(db), ex=30)

    answers = {cache.get("where") for _ in range(100)}

    assert answers == {1, 2}  # both read servers, never the writer; each half the time
    cache.set("written", "yes", 30)
    first = redis.Redis.from_url(servers[0])
    assert first.get(cache.make_and_validate_key("written")) is not None
