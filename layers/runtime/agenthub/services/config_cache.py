"""A chat turn's tenant config: in-process L1 by config version, Redis L2, PostgreSQL behind.

`CachedConfigSource` orchestrates; the cache (`TenantConfigCache`), the rate limiter
(`services.rate_limit`) and the counters (`services.cache_stats.CacheCounters`) each do one job.

A warm container makes one Redis round trip per request (the tenant's current version, its rate
counter and the pending hit/miss counters, pipelined) and serves the config from L1. A cold one
reads the config from Redis; only a miss rebuilds it from PostgreSQL (`TenantConfigStore`),
one rebuild at a time per tenant (others wait briefly for it, then read PostgreSQL themselves).
When Redis is down the version comes from PostgreSQL instead, and the failure is logged and
counted.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from agenthub.cache.redis_cache import FrontRead, RedisConfigCache, RedisUnavailableError
from agenthub.domain import TenantRuntimeConfig
from agenthub.errors import NotFoundError
from agenthub.observability import get_logger
from agenthub.services.cache_stats import CacheCounters
from agenthub.services.rate_limit import TenantRateLimiter


class TenantConfigStore(Protocol):
    """Where configs come from on a miss: PostgreSQL (agenthub.db.tenant_config, plain SQL on
    the container's pool: a miss imports no SQLAlchemy)."""

    def version(self, tenant_id: str) -> int | None: ...

    def load(self, tenant_id: str) -> TenantRuntimeConfig: ...


@dataclass
class _Entry:
    config: TenantRuntimeConfig
    loaded_at: float


class CachedConfigSource:
    """A chat turn's config for a tenant: one front read, the version, the cache, the limit.

    It only orchestrates: `TenantConfigCache` finds or rebuilds the config, `TenantRateLimiter`
    applies the limit, `CacheCounters` counts and hands the counts to the next front read.
    """

    def __init__(
        self,
        *,
        store: TenantConfigStore,
        redis: RedisConfigCache,
        ttl_s: int,
        max_tenants: int = 256,
        lock_hold_s: float = 5.0,
        lock_wait_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        limiter: TenantRateLimiter | None = None,
        counters: CacheCounters | None = None,
    ) -> None:
        self._store = store
        self._redis = redis
        self._counters = counters or CacheCounters()
        self._limiter = limiter or TenantRateLimiter()
        self.cache = TenantConfigCache(
            store=store,
            redis=redis,
            counters=self._counters,
            ttl_s=ttl_s,
            max_tenants=max_tenants,
            lock_hold_s=lock_hold_s,
            lock_wait_s=lock_wait_s,
            clock=clock,
        )

    def get(self, tenant_id: str) -> TenantRuntimeConfig:
        front = self._front_read(tenant_id)
        version = front.version if front is not None else None
        if version is None:
            version = self._database_version(tenant_id)
            if front is not None:
                # The version key expired (or was never set): publish it again, or every
                # request would read it from PostgreSQL until some container rebuilds.
                self._publish_version(tenant_id, version)
        config, hit = self.cache.get(tenant_id, version, redis_up=front is not None)
        self._counters.count(tenant_id, "hits" if hit else "misses")
        self._limiter.check(config, front.requests_this_minute if front is not None else None)
        return config

    def stats(self) -> dict[str, int]:
        """Counters since this process started: hits, misses, redis_errors."""
        return self._counters.totals()

    @property
    def database_loads(self) -> int:
        return self.cache.database_loads

    def _front_read(self, tenant_id: str) -> FrontRead | None:
        pending = self._counters.take_pending()
        try:
            return self._redis.front_read(tenant_id, pending)
        except RedisUnavailableError:
            self._counters.restore_pending(pending)
            self._counters.count(tenant_id, "redis_errors")
            return None

    def _database_version(self, tenant_id: str) -> int:
        version = self._store.version(tenant_id)
        if version is None:
            raise NotFoundError(f"tenant {tenant_id!r} does not exist")
        return version

    def _publish_version(self, tenant_id: str, version: int) -> None:
        try:
            self._redis.publish_version(tenant_id, version)
        except RedisUnavailableError:
            self._counters.count(tenant_id, "redis_errors")


class TenantConfigCache:
    """Finds a tenant's config at a version: L1 (this process), then Redis, then a rebuild from
    PostgreSQL, one rebuild at a time per tenant (a thread lock here, a Redis lock across
    containers: the others wait briefly for it, then read PostgreSQL themselves)."""

    def __init__(
        self,
        *,
        store: TenantConfigStore,
        redis: RedisConfigCache,
        counters: CacheCounters,
        ttl_s: int,
        max_tenants: int = 256,
        lock_hold_s: float = 5.0,
        lock_wait_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._redis = redis
        self._counters = counters
        self._ttl_s = ttl_s
        self._max = max_tenants
        self._lock_hold_s = lock_hold_s
        self._lock_wait_s = lock_wait_s
        self._clock = clock
        self._l1: OrderedDict[str, _Entry] = OrderedDict()
        self._l1_lock = threading.Lock()
        self._rebuild_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self.database_loads = 0

    def get(
        self, tenant_id: str, version: int, *, redis_up: bool
    ) -> tuple[TenantRuntimeConfig, bool]:
        """(the config, whether it came from a cache rather than a rebuild)."""
        config = self._from_l1(tenant_id, version)
        if config is None and redis_up:
            config = self._from_redis(tenant_id, version)
        if config is not None:
            return config, True
        return self._rebuild(tenant_id, version, redis_up=redis_up), False

    def _from_l1(self, tenant_id: str, version: int) -> TenantRuntimeConfig | None:
        with self._l1_lock:
            entry = self._l1.get(tenant_id)
            if entry is None:
                return None
            fresh = self._clock() - entry.loaded_at < self._ttl_s
            # A newer entry than Redis knows of came from PostgreSQL, the source of truth.
            if entry.config.config_version >= version and fresh:
                self._l1.move_to_end(tenant_id)
                return entry.config
        return None

    def _remember(self, config: TenantRuntimeConfig) -> None:
        with self._l1_lock:
            self._l1[config.tenant_id] = _Entry(config, self._clock())
            self._l1.move_to_end(config.tenant_id)
            while len(self._l1) > self._max:
                self._l1.popitem(last=False)

    def _from_redis(self, tenant_id: str, version: int) -> TenantRuntimeConfig | None:
        try:
            payload = self._redis.get_runtime(tenant_id, version)
        except RedisUnavailableError:
            self._counters.count(tenant_id, "redis_errors")
            return None
        if payload is None:
            return None
        try:
            config = TenantRuntimeConfig.model_validate_json(payload)
        except ValidationError:
            # Written by another release (the shape changed): a miss, rebuilt and overwritten.
            get_logger().warning(
                "unreadable cached config; rebuilding", extra={"tenant_id": tenant_id}
            )
            return None
        self._remember(config)
        return config

    def _rebuild(self, tenant_id: str, version: int, *, redis_up: bool) -> TenantRuntimeConfig:
        # One rebuild per tenant in this process; across processes, a Redis lock.
        with self._rebuild_locks[tenant_id]:
            config = self._from_l1(tenant_id, version)
            if config is not None:
                return config
            if not redis_up:
                return self._load_and_store(tenant_id, version, publish=False)
            try:
                lock = self._redis.try_rebuild_lock(tenant_id, hold_s=self._lock_hold_s)
            except RedisUnavailableError:
                return self._load_and_store(tenant_id, version, publish=False)
            if lock is None:  # another container is rebuilding: wait for its result
                config = self._wait_for_other_rebuild(tenant_id, version)
                if config is not None:
                    return config
                return self._load_and_store(tenant_id, version, publish=False)
            try:
                return self._load_and_store(tenant_id, version, publish=True)
            finally:
                with contextlib.suppress(RedisUnavailableError):  # it expires by itself
                    self._redis.release_rebuild_lock(lock)

    def _wait_for_other_rebuild(self, tenant_id: str, version: int) -> TenantRuntimeConfig | None:
        deadline = self._clock() + self._lock_wait_s
        while self._clock() < deadline:
            time.sleep(0.02)
            config = self._from_redis(tenant_id, version)
            if config is not None:
                return config
        return None

    def _load_and_store(
        self, tenant_id: str, version: int, *, publish: bool
    ) -> TenantRuntimeConfig:
        config = self._store.load(tenant_id)
        self.database_loads += 1
        self._remember(config)
        if publish:
            try:
                self._redis.put_runtime(
                    tenant_id,
                    config.config_version,
                    config.model_dump_json(),
                    # Redis lagged behind PostgreSQL (a lost reload message): catch it up.
                    replace_version=config.config_version > version,
                )
            except RedisUnavailableError:
                self._counters.count(tenant_id, "redis_errors")
        return config
