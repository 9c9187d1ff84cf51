"""Usage metrics for admins: a tenant admin sees their own tenant, a platform admin any or all."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from agenthub.observability import get_logger
from agenthub.repositories import TenantRepository
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.changes import ChangeRunner
from agenthub.services.admin.inputs import invalid
from agenthub.services.usage_metrics import GroupBy, Usage, query_usage

if TYPE_CHECKING:
    from agenthub.cache.redis_cache import RedisConfigCache

# (tenant ids, start, end) -> the config cache hit rate over them, or None when unknown.
HitRate = Callable[[Sequence[str], datetime, datetime], float | None]


@dataclass(frozen=True)
class MetricsReport:
    tenant_id: str | None
    start: datetime
    end: datetime
    group_by: GroupBy | None
    usage: Usage
    cache_hit_rate: float | None


class MetricsAdmin:
    def __init__(self, runner: ChangeRunner, *, hit_rate: HitRate) -> None:
        self._runner = runner
        self._hit_rate = hit_rate

    def report(
        self,
        actor: Actor,
        *,
        tenant_id: str | None,
        start: datetime,
        end: datetime,
        group_by: GroupBy | None = None,
    ) -> MetricsReport:
        """`tenant_id` None: the caller's tenant for a tenant admin, every tenant for a
        platform admin."""
        actor.require_admin()
        if tenant_id is None and not actor.is_platform_admin:
            tenant_id = actor.tenant_id
        if tenant_id is not None:
            actor.require_tenant(tenant_id)
        if start >= end:
            raise invalid("from", "must be before `to`")

        def work(db: Session) -> tuple[Usage, list[str]]:
            tenants = TenantRepository(db)
            if tenant_id is None:
                tenant_ids = [t.id for t in tenants.list()]
            else:
                tenant_ids = [tenants.require(tenant_id).id]
            usage = query_usage(db, tenant_id=tenant_id, start=start, end=end, group_by=group_by)
            return usage, tenant_ids

        usage, tenant_ids = self._runner.read(work)
        return MetricsReport(
            tenant_id=tenant_id,
            start=start,
            end=end,
            group_by=group_by,
            usage=usage,
            cache_hit_rate=self._hit_rate(tenant_ids, start, end),
        )


def redis_hit_rate(
    cache: RedisConfigCache, tenant_ids: Sequence[str], start: datetime, end: datetime
) -> float | None:
    """The config cache hit rate from the counters in Redis, over the given tenants together."""
    from agenthub.services.cache_stats import read_hit_rate

    hits = misses = 0
    for tenant_id in tenant_ids:
        stats = read_hit_rate(cache, tenant_id, start, end)
        if stats["hits"] is None:  # Redis unavailable: the rate is unknown, not zero
            get_logger().warning("cache hit rate unavailable", extra={"tenant_id": tenant_id})
            return None
        hits, misses = hits + int(stats["hits"]), misses + int(stats["misses"])
    return round(hits / (hits + misses), 4) if hits + misses else None
