"""The parts CachedConfigSource composes, each with one job: rate limiter and counters."""

from __future__ import annotations

import pytest

from agenthub.domain import TenantRuntimeConfig
from agenthub.errors import RateLimitedError
from agenthub.services.cache_stats import CacheCounters
from agenthub.services.rate_limit import TenantRateLimiter


def config(limit: int) -> TenantRuntimeConfig:
    return TenantRuntimeConfig.model_construct(tenant_id="acme", rate_limit_per_minute=limit)


def test_the_limiter_lets_the_limit_through_and_refuses_one_more() -> None:
    limiter = TenantRateLimiter(retry_after_s=60)
    limiter.check(config(3), 3)
    with pytest.raises(RateLimitedError) as refused:
        limiter.check(config(3), 4)
    assert refused.value.details == {"retry_after_s": 60}


def test_the_limiter_lets_requests_through_when_nothing_could_be_counted() -> None:
    TenantRateLimiter().check(config(1), None)  # Redis down: no counter, no refusal


def test_counters_hand_pending_counts_over_once_and_take_them_back_on_failure() -> None:
    counters = CacheCounters()
    counters.count("acme", "hits")
    counters.count("acme", "hits")
    counters.count("globex", "misses")

    pending = counters.take_pending()
    assert pending == {"acme": {"hits": 2}, "globex": {"misses": 1}}
    assert counters.take_pending() == {}
    counters.restore_pending(pending)  # the flush failed
    assert counters.take_pending() == pending
    assert counters.totals() == {"hits": 2, "misses": 1, "redis_errors": 0}
