"""The reload path's consumer: bump the tenants' config versions and invalidate their cache.

Runs in `functions/config_reload` for each SQS record. A malformed message raises (it fails
alone, is retried and reaches the DLQ); a Redis failure raises too, so the message is retried
once Redis is back instead of being lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from agenthub.cache.redis_cache import RedisConfigCache
from agenthub.db.engine import transaction
from agenthub.observability import get_logger
from agenthub.repositories import TenantRepository
from agenthub.services.reload import ALL_TENANTS, ReloadMessage


@dataclass(frozen=True)
class ReloadResult:
    versions: dict[str, int]
    unknown_tenants: tuple[str, ...]


def apply_reload(
    message: ReloadMessage, *, sessions: sessionmaker[Session], cache: RedisConfigCache
) -> ReloadResult:
    with transaction(sessions) as db:
        tenants = TenantRepository(db)
        known = {t.id for t in tenants.list()}
        wanted = known if message.tenant_ids == ALL_TENANTS else set(message.tenant_ids)
        versions = {
            tenant_id: tenants.bump_config_version(tenant_id=tenant_id)
            for tenant_id in sorted(wanted & known)
        }
    for tenant_id, version in versions.items():
        cache.invalidate(tenant_id, new_version=version)
    unknown = tuple(sorted(wanted - known))
    get_logger().info(
        "config reloaded",
        extra={
            "reason": message.reason,
            "tenants": sorted(versions),
            "unknown_tenants": list(unknown),
        },
    )
    return ReloadResult(versions=versions, unknown_tenants=unknown)
