"""The config cache's hit/miss/error counters: counted in process, flushed to Redis by the next
request's round trip (`CacheCounters`), and read back as a hit rate over a period."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from agenthub.cache.redis_cache import STATS_TTL_S, RedisConfigCache, RedisUnavailableError

HOUR = timedelta(hours=1)
Counter = Literal["hits", "misses", "redis_errors"]
COUNTERS: tuple[Counter, ...] = ("hits", "misses", "redis_errors")
Pending = dict[str, dict[str, int]]  # tenant -> counter -> amount not yet in Redis


class CacheCounters:
    """Counts per tenant; what Redis has not got yet is handed to the next front read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: defaultdict[str, defaultdict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self._totals: defaultdict[str, int] = defaultdict(int)

    def count(self, tenant_id: str, name: Counter) -> None:
        with self._lock:
            self._totals[name] += 1
            self._pending[tenant_id][name] += 1

    def take_pending(self) -> Pending:
        """The counts not yet flushed, now owned by the caller (give them back if it fails)."""
        with self._lock:
            pending = {t: dict(c) for t, c in self._pending.items() if c}
            self._pending.clear()
        return pending

    def restore_pending(self, pending: Pending) -> None:
        with self._lock:
            for tenant_id, counters in pending.items():
                for name, amount in counters.items():
                    self._pending[tenant_id][name] += amount

    def totals(self) -> dict[str, int]:
        """Since this process started: hits, misses, redis_errors."""
        with self._lock:
            return {name: self._totals.get(name, 0) for name in COUNTERS}


def hours_between(start: datetime, end: datetime, *, now: datetime | None = None) -> list[str]:
    """The UTC hours (YYYYMMDDHH) of [start, end] whose counters may still exist, newest first.

    Counters live STATS_TTL_S after their hour's last write, so older hours are never read and
    a long period costs at most the retention's hours; hours after `now` hold nothing yet.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    oldest = max(start.astimezone(UTC), now - timedelta(seconds=STATS_TTL_S))
    first = _hour_of(oldest)
    cursor = _hour_of(min(end.astimezone(UTC), now))
    hours: list[str] = []
    while cursor >= first:
        hours.append(cursor.strftime("%Y%m%d%H"))
        cursor -= HOUR
    return hours


def _hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def read_hit_rate(
    cache: RedisConfigCache, tenant_id: str, start: datetime, end: datetime
) -> dict[str, Any]:
    """{hits, misses, redis_errors, hit_rate}; hit_rate is None without data or without Redis."""
    try:
        totals = cache.read_stats(tenant_id, hours_between(start, end))
    except RedisUnavailableError:
        return {"hits": None, "misses": None, "redis_errors": None, "hit_rate": None}
    hits, misses = totals.get("hits", 0), totals.get("misses", 0)
    return {
        "hits": hits,
        "misses": misses,
        "redis_errors": totals.get("redis_errors", 0),
        "hit_rate": round(hits / (hits + misses), 4) if hits + misses else None,
    }
