"""Redis key names. Every key of a tenant starts with `agenthub:{tenant_id}:`."""

from __future__ import annotations


def cache_key(tenant_id: str, key: str) -> str:
    """A cache entry: `agenthub:{tenant_id}:cache:{key}` (TTL exactly the cache TTL)."""
    return f"agenthub:{tenant_id}:cache:{key}"


def version_key(tenant_id: str) -> str:
    return cache_key(tenant_id, "version")


def runtime_key(tenant_id: str, version: int) -> str:
    return cache_key(tenant_id, f"runtime:v{version}")


def runtime_pattern(tenant_id: str) -> str:
    return cache_key(tenant_id, "runtime:*")


def rebuild_lock_key(tenant_id: str) -> str:
    return cache_key(tenant_id, "lock:runtime")


def stats_key(tenant_id: str, hour: str) -> str:
    """Hourly hit/miss counters (`hour` is YYYYMMDDHH, UTC); kept for a week, not a cache entry."""
    return f"agenthub:{tenant_id}:stats:{hour}"


def rate_key(tenant_id: str, minute: int) -> str:
    return f"agenthub:{tenant_id}:ratelimit:{minute}"
