"""Redis side of the config cache, behind a circuit breaker.

Every operation has short socket timeouts (set on the client) and, after a failure, Redis is
skipped for `backoff_s`: a dead Redis costs one timeout per window, not one per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agenthub.cache.keys import (
    rate_key,
    rebuild_lock_key,
    runtime_key,
    runtime_pattern,
    stats_key,
    version_key,
)
from agenthub.observability import get_logger

if TYPE_CHECKING:
    from redis.lock import Lock

STATS_TTL_S = 8 * 24 * 3600
RATE_WINDOW_S = 60


class RedisUnavailableError(Exception):
    """Redis could not be used for this operation (down, timing out, or skipped)."""


@dataclass(frozen=True)
class FrontRead:
    """What the one round trip at the front of a request learned."""

    version: int | None
    requests_this_minute: int


class RedisConfigCache:
    def __init__(
        self,
        client: Callable[[], Any],
        *,
        ttl_s: int,
        backoff_s: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.ttl_s = ttl_s
        self._backoff_s = backoff_s
        self._clock = clock
        self._wall = wall_clock
        self._down_until = 0.0
        self._lock = threading.Lock()
        self.errors = 0

    # --- circuit breaker ---------------------------------------------------------------------

    def _run(self, what: str, operation: Callable[[Any], Any]) -> Any:
        if self._clock() < self._down_until:
            raise RedisUnavailableError(f"redis skipped after a recent failure ({what})")
        try:
            return operation(self._client())
        except Exception as exc:  # redis.RedisError, OSError, timeouts
            with self._lock:
                self.errors += 1
                first_in_window = self._clock() >= self._down_until
                self._down_until = self._clock() + self._backoff_s
            if first_in_window:
                get_logger().warning(
                    "redis unavailable; serving config from PostgreSQL",
                    extra={"operation": what, "error": type(exc).__name__},
                )
            raise RedisUnavailableError(str(exc)) from exc

    # --- the request path --------------------------------------------------------------------

    def front_read(self, tenant_id: str, stats: Mapping[str, Mapping[str, int]]) -> FrontRead:
        """One round trip: the tenant's version, its rate counter, and pending stats flushed."""
        minute = int(self._wall() // RATE_WINDOW_S)
        hour = time.strftime("%Y%m%d%H", time.gmtime(self._wall()))

        def operation(client: Any) -> FrontRead:
            pipe = client.pipeline(transaction=False)
            pipe.get(version_key(tenant_id))
            pipe.incr(rate_key(tenant_id, minute))
            pipe.expire(rate_key(tenant_id, minute), RATE_WINDOW_S * 2)
            for stats_tenant, counters in stats.items():
                key = stats_key(stats_tenant, hour)
                for field, amount in counters.items():
                    pipe.hincrby(key, field, amount)
                pipe.expire(key, STATS_TTL_S)
            results = pipe.execute()
            raw_version = results[0]
            return FrontRead(
                version=int(raw_version) if raw_version is not None else None,
                requests_this_minute=int(results[1]),
            )

        result: FrontRead = self._run("front_read", operation)
        return result

    def get_runtime(self, tenant_id: str, version: int) -> str | None:
        raw = self._run("get_runtime", lambda c: c.get(runtime_key(tenant_id, version)))
        return raw.decode() if isinstance(raw, bytes) else raw

    def put_runtime(
        self, tenant_id: str, version: int, payload: str, *, replace_version: bool = False
    ) -> None:
        def operation(client: Any) -> None:
            pipe = client.pipeline(transaction=False)
            pipe.set(runtime_key(tenant_id, version), payload, ex=self.ttl_s)
            # Normally only publish a version when none is there: a reload's newer one must win.
            pipe.set(version_key(tenant_id), version, ex=self.ttl_s, nx=not replace_version)
            pipe.execute()

        self._run("put_runtime", operation)

    def publish_version(self, tenant_id: str, version: int) -> None:
        """Set the tenant's version unless one is there (a reload's newer one must win)."""
        self._run(
            "publish_version",
            lambda c: c.set(version_key(tenant_id), version, ex=self.ttl_s, nx=True),
        )

    def try_rebuild_lock(self, tenant_id: str, *, hold_s: float) -> Lock | None:
        """The tenant's rebuild lock if nobody holds it (it expires after `hold_s`), else None.

        redis-py's Lock: a random token as the value, so only its owner can release it.
        """

        def operation(client: Any) -> Lock | None:
            lock: Lock = client.lock(
                rebuild_lock_key(tenant_id), timeout=hold_s, blocking=False, thread_local=False
            )
            return lock if lock.acquire(blocking=False) else None

        acquired: Lock | None = self._run("lock", operation)
        return acquired

    def release_rebuild_lock(self, lock: Lock) -> None:
        """Release a lock this process holds; one that expired (and maybe went to another
        container meanwhile) is left alone: deleting it would let a third rebuild too."""
        from redis.exceptions import LockError

        def operation(_client: Any) -> None:
            try:
                lock.release()
            except LockError:
                get_logger().info("rebuild lock expired before its rebuild finished")

        self._run("unlock", operation)

    # --- the reload path ---------------------------------------------------------------------

    def invalidate(self, tenant_id: str, *, new_version: int) -> int:
        """Publish the tenant's new version and drop its cached runtime configs."""

        def operation(client: Any) -> int:
            stale = list(client.scan_iter(match=runtime_pattern(tenant_id), count=100))
            pipe = client.pipeline(transaction=True)
            pipe.set(version_key(tenant_id), new_version, ex=self.ttl_s)
            if stale:
                pipe.delete(*stale)
            pipe.execute()
            return len(stale)

        removed: int = self._run("invalidate", operation)
        return removed

    def read_stats(self, tenant_id: str, hours: list[str]) -> dict[str, int]:
        def operation(client: Any) -> dict[str, int]:
            pipe = client.pipeline(transaction=False)
            for hour in hours:
                pipe.hgetall(stats_key(tenant_id, hour))
            totals: dict[str, int] = {}
            for counters in pipe.execute():
                for field, value in counters.items():
                    name = field.decode() if isinstance(field, bytes) else str(field)
                    totals[name] = totals.get(name, 0) + int(value)
            return totals

        result: dict[str, int] = self._run("read_stats", operation)
        return result
