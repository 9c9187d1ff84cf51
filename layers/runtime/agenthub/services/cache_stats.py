"""Cache hit rate over a period, from the hourly counters the chat path flushes to Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agenthub.cache.redis_cache import RedisConfigCache, RedisUnavailableError

MAX_HOURS = 24 * 31


def hours_between(start: datetime, end: datetime) -> list[str]:
    cursor = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    stop = end.astimezone(UTC)
    hours: list[str] = []
    while cursor <= stop and len(hours) < MAX_HOURS:
        hours.append(cursor.strftime("%Y%m%d%H"))
        cursor += timedelta(hours=1)
    return hours


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
