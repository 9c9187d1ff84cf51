"""Cache hit rate over a period, from the hourly counters the chat path flushes to Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agenthub.cache.redis_cache import STATS_TTL_S, RedisConfigCache, RedisUnavailableError

HOUR = timedelta(hours=1)


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
