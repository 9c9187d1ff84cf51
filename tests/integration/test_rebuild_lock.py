"""The per-tenant rebuild lock in Redis is released only by the container that holds it."""

from __future__ import annotations

import time

import redis

from agenthub.cache.keys import rebuild_lock_key
from agenthub.cache.redis_cache import RedisConfigCache


def test_a_rebuild_that_outlived_its_lock_does_not_release_the_next_holders_lock(
    redis_url: str,
) -> None:
    client = redis.Redis.from_url(redis_url)
    slow = RedisConfigCache(lambda: client, ttl_s=3600, backoff_s=1)
    next_one = RedisConfigCache(lambda: client, ttl_s=3600, backoff_s=1)

    # GIVEN a rebuild that took longer than its lock's hold time, and another that took it over
    slow_lock = slow.try_rebuild_lock("acme", hold_s=0.1)
    assert slow_lock is not None
    time.sleep(0.25)
    next_lock = next_one.try_rebuild_lock("acme", hold_s=5)
    assert next_lock is not None

    # WHEN the slow one finishes and releases "its" lock
    slow.release_rebuild_lock(slow_lock)

    # THEN the other's lock is still held: a third container does not rebuild at the same time
    assert client.exists(rebuild_lock_key("acme")) == 1
    assert slow.try_rebuild_lock("acme", hold_s=5) is None
    next_one.release_rebuild_lock(next_lock)
    assert client.exists(rebuild_lock_key("acme")) == 0


def test_only_one_holder_at_a_time(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    cache = RedisConfigCache(lambda: client, ttl_s=3600, backoff_s=1)

    first = cache.try_rebuild_lock("acme", hold_s=5)
    assert first is not None
    assert cache.try_rebuild_lock("acme", hold_s=5) is None
    assert cache.try_rebuild_lock("globex", hold_s=5) is not None  # per tenant
    cache.release_rebuild_lock(first)
    assert cache.try_rebuild_lock("acme", hold_s=5) is not None
