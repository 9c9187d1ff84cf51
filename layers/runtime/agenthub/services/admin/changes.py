"""One admin change: write it, audit it and move the affected tenants' config versions in ONE
transaction; after the commit, ask every container to reload.

The reload message is best effort: when the queue cannot be reached the change stays committed
and the caller reports the reload as "pending" (the config versions already moved in PostgreSQL,
and the cache TTL bounds how long a stale entry can live).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.engine import transaction
from agenthub.repositories import TenantRepository
from agenthub.repositories.common import load_server_values
from agenthub.services.reload import ALL_TENANTS, ReloadOutcome

T = TypeVar("T")
ReloadStatus = Literal["queued", "pending"]
Affected = tuple[str, ...] | Literal["*"]
NO_TENANT: Affected = ()


class ReloadPublisher(Protocol):
    def publish(
        self,
        *,
        tenant_ids: Sequence[str] | Literal["*"],
        reason: str,
        config_version: int | None = None,
    ) -> ReloadOutcome: ...


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a change's work returns: its result and the tenants whose runtime config moved."""

    value: T
    affected: Affected


@dataclass(frozen=True)
class Changed(Generic[T]):
    value: T
    reload: ReloadStatus
    tenant_ids: Affected


class ChangeRunner:
    def __init__(self, sessions: sessionmaker[Session], publisher: ReloadPublisher) -> None:
        self._sessions = sessions
        self._publisher = publisher

    def read(self, work: Callable[[Session], T]) -> T:
        """A read-only unit of work (nothing is audited or reloaded)."""
        with transaction(self._sessions) as db:
            return work(db)

    def run(self, work: Callable[[Session], Outcome[T]], *, reason: str) -> Changed[T]:
        with transaction(self._sessions) as db:
            outcome = work(db)
            versions = _bump_config_versions(db, outcome.affected)
            # The bump expired columns of loaded tenants (updated_at): load them while we can,
            # the result is used after the session closes.
            for entity in list(db.identity_map.values()):
                load_server_values(db, entity)
        single_version = next(iter(versions.values())) if len(versions) == 1 else None
        sent = self._publisher.publish(
            tenant_ids=outcome.affected, reason=reason, config_version=single_version
        )
        return Changed(value=outcome.value, reload=sent.status, tenant_ids=outcome.affected)


def _bump_config_versions(db: Session, affected: Affected) -> dict[str, int]:
    tenants = TenantRepository(db)
    tenant_ids = [t.id for t in tenants.list()] if affected == ALL_TENANTS else affected
    return {t: tenants.bump_config_version(tenant_id=t) for t in sorted(set(tenant_ids))}
