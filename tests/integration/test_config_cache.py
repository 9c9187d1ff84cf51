"""The tenant config cache on real Redis and PostgreSQL: hits, round trips, stampede, outage."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis as redis_lib

from agenthub.cache.keys import runtime_key, version_key
from agenthub.cache.redis_cache import RedisConfigCache
from agenthub.db.tenant_config import TenantConfigReader
from agenthub.domain import TenantRuntimeConfig
from agenthub.errors import NotFoundError, RateLimitedError
from agenthub.services.config_cache import CachedConfigSource
from tests.support.counting_redis import CountingRedis

pytest_plugins = ["tests.integration.chat_fixtures"]


@pytest.fixture
def counting_redis(redis_url: str) -> CountingRedis:
    CountingRedis.round_trips = 0
    client = CountingRedis.from_url(redis_url, socket_timeout=0.25, socket_connect_timeout=0.25)
    return client  # type: ignore[return-value]


def _reader() -> TenantConfigReader:
    from agenthub.composition import get_pool

    return TenantConfigReader(get_pool())


@pytest.fixture
def source(seeded: None, counting_redis: CountingRedis) -> CachedConfigSource:
    cache = RedisConfigCache(lambda: counting_redis, ttl_s=3600, backoff_s=5.0)
    return CachedConfigSource(store=_reader(), redis=cache, ttl_s=3600)


def test_a_warm_request_costs_one_redis_round_trip_and_no_database_load(
    source: CachedConfigSource,
) -> None:
    source.get("acme")  # cold: builds and publishes
    before = CountingRedis.round_trips

    for _ in range(20):
        config = source.get("acme")

    assert config.tenant_id == "acme"
    assert CountingRedis.round_trips - before == 20
    assert source.database_loads == 1
    assert source.stats()["hits"] == 20 and source.stats()["misses"] == 1


def test_entries_are_namespaced_by_tenant_and_expire_after_exactly_an_hour(
    source: CachedConfigSource, counting_redis: CountingRedis
) -> None:
    source.get("acme")
    source.get("globex")

    keys = sorted(k.decode() for k in counting_redis.keys("agenthub:*:cache:*"))
    assert keys and all(
        k.startswith("agenthub:acme:cache:") or k.startswith("agenthub:globex:cache:") for k in keys
    )
    for key in keys:
        assert counting_redis.ttl(key) in (3600, 3599)
    for key in counting_redis.keys("agenthub:*"):
        assert key.decode().split(":")[1] in {"acme", "globex"}


def test_a_cold_container_reads_the_config_from_redis_not_postgres(
    source: CachedConfigSource, counting_redis: CountingRedis
) -> None:
    source.get("acme")
    cold = CachedConfigSource(
        store=_reader(),
        redis=RedisConfigCache(lambda: counting_redis, ttl_s=3600, backoff_s=5.0),
        ttl_s=3600,
    )

    config = cold.get("acme")

    assert config.tenant_id == "acme"
    assert cold.database_loads == 0
    assert cold.stats()["hits"] == 1


def test_a_new_version_in_redis_rebuilds_once(
    source: CachedConfigSource, counting_redis: CountingRedis
) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import TenantRepository

    first = source.get("acme")
    with transaction(get_sessionmaker()) as db:
        new_version = TenantRepository(db).bump_config_version(tenant_id="acme")
    RedisConfigCache(lambda: counting_redis, ttl_s=3600, backoff_s=1).invalidate(
        "acme", new_version=new_version
    )

    second = source.get("acme")
    third = source.get("acme")

    assert second.config_version == new_version > first.config_version
    assert third is second
    assert source.database_loads == 2
    assert counting_redis.exists(runtime_key("acme", first.config_version)) == 0


def test_one_rebuild_at_a_time_per_tenant(seeded: None, counting_redis: CountingRedis) -> None:
    from agenthub.composition import get_pool

    loads = []
    gate = threading.Event()

    class SlowReader(TenantConfigReader):
        def load(self, tenant_id: str) -> TenantRuntimeConfig:
            loads.append(tenant_id)
            gate.wait(0.3)
            return super().load(tenant_id)

    # Five containers (separate L1s), one Redis: only one may rebuild from PostgreSQL.
    sources = [
        CachedConfigSource(
            store=SlowReader(get_pool()),
            redis=RedisConfigCache(lambda: counting_redis, ttl_s=3600, backoff_s=5.0),
            ttl_s=3600,
            lock_wait_s=2.0,
        )
        for _ in range(5)
    ]
    results: list[TenantRuntimeConfig] = []
    threads = [threading.Thread(target=lambda s=s: results.append(s.get("acme"))) for s in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(results) == 5
    assert loads == ["acme"]


def test_redis_down_serves_from_postgres_counts_failures_and_recovers(
    seeded: None, redis_server: Any, redis_url: str
) -> None:
    if redis_server is None:
        pytest.skip("needs the embedded Redis to stop it (REDIS_URL names an external one)")
    now = [0.0]
    client = redis_lib.Redis.from_url(redis_url, socket_timeout=0.2, socket_connect_timeout=0.2)
    source = CachedConfigSource(
        store=_reader(),
        redis=RedisConfigCache(lambda: client, ttl_s=3600, backoff_s=5.0, clock=lambda: now[0]),
        ttl_s=3600,
    )
    source.get("acme")

    redis_server.stop()
    try:
        answers = [source.get("acme") for _ in range(10)]
        errors_while_down = source.stats()["redis_errors"]
    finally:
        redis_server.start()

    assert all(a.tenant_id == "acme" for a in answers)
    # One timeout opens the breaker: no retry storm while it is open.
    assert errors_while_down == 10
    now[0] += 6  # the breaker's backoff has passed
    hits_before = source.stats()["hits"]
    source.get("acme")
    source.get("acme")
    assert source.stats()["hits"] - hits_before == 2
    assert source.stats()["redis_errors"] == errors_while_down


def test_unknown_tenant_is_not_found(source: CachedConfigSource) -> None:
    with pytest.raises(NotFoundError):
        source.get("nobody")


def test_the_tenant_rate_limit_is_enforced_per_minute(
    source: CachedConfigSource, counting_redis: CountingRedis
) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import TenantRepository

    with transaction(get_sessionmaker()) as db:
        tenants = TenantRepository(db)
        tenants.update_settings(
            tenant_id="acme",
            expected_version=tenants.require("acme").version,
            changes={"rate_limit_per_minute": 3},
        )
        tenants.bump_config_version(tenant_id="acme")
    counting_redis.delete(version_key("acme"))

    for _ in range(3):
        source.get("acme")
    with pytest.raises(RateLimitedError):
        source.get("acme")
    source.get("globex")  # another tenant is not limited


def test_hit_and_miss_counters_reach_redis_with_the_next_request(
    source: CachedConfigSource, counting_redis: CountingRedis
) -> None:
    from datetime import UTC, datetime, timedelta

    from agenthub.services.cache_stats import read_hit_rate

    for _ in range(4):
        source.get("acme")
    source.get("globex")  # flushes acme's pending counters in its round trip

    now = datetime.now(UTC)
    rate = read_hit_rate(
        RedisConfigCache(lambda: counting_redis, ttl_s=3600, backoff_s=1),
        "acme",
        now - timedelta(hours=1),
        now,
    )
    assert rate["hits"] == 3 and rate["misses"] == 1
    assert rate["hit_rate"] == 0.75


def test_an_expired_version_key_is_published_again(
    source: CachedConfigSource, counting_redis: CountingRedis
) -> None:
    source.get("acme")
    counting_redis.delete(version_key("acme"))  # as when its TTL ran out

    source.get("acme")

    assert counting_redis.get(version_key("acme")) is not None
    before = CountingRedis.round_trips
    source.get("acme")
    assert CountingRedis.round_trips - before == 1  # back to one round trip


def test_an_unreadable_cached_config_is_a_miss_not_an_error(
    source: CachedConfigSource, counting_redis: CountingRedis
) -> None:
    config = source.get("acme")
    counting_redis.set(runtime_key("acme", config.config_version), '{"from": "an older release"}')
    cold = CachedConfigSource(
        store=_reader(),
        redis=RedisConfigCache(lambda: counting_redis, ttl_s=3600, backoff_s=5.0),
        ttl_s=3600,
    )

    assert cold.get("acme").tenant_id == "acme"
    assert cold.database_loads == 1
