"""Deleting a tenant (platform admins): its rows, and its vectors and files.

The tenant row goes with everything that references it (ON DELETE CASCADE: config, sessions,
messages, knowledge bases and documents); then, still inside the transaction, the tenant's Chroma
database and every S3 object under `tenant/{id}/` are removed. If a store fails, the
transaction rolls back and the tenant stays (try again); if the commit fails after the stores
were emptied, the retention run's sweep finishes nothing more than it must. The audit row
survives the tenant (it has no foreign key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from agenthub.knowledge.purge import PurgeReport
from agenthub.repositories import TenantRepository
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.audit import record_change
from agenthub.services.admin.changes import NO_TENANT, ChangeRunner, Outcome
from agenthub.services.admin.inputs import require_version
from agenthub.services.admin.tenants import SETTINGS_FIELDS

TenantPurge = Callable[[str], PurgeReport]


@dataclass(frozen=True)
class TenantDeleted:
    tenant_id: str
    purge: PurgeReport


class TenantDeletionAdmin:
    def __init__(
        self,
        runner: ChangeRunner,
        *,
        purge: TenantPurge,
        forget_cache: Callable[[str], None] | None = None,
    ) -> None:
        self._runner = runner
        self._purge = purge
        self._forget_cache = forget_cache

    def delete(
        self, actor: Actor, *, tenant_id: str, expected_version: int | None
    ) -> TenantDeleted:
        actor.require_platform_admin("delete tenants")
        version = require_version(expected_version)
        if tenant_id == actor.tenant_id:
            from agenthub.errors import ConflictError

            raise ConflictError("an admin cannot delete their own tenant")

        def work(db: Session) -> Outcome[TenantDeleted]:
            tenants = TenantRepository(db)
            tenant = tenants.lock(tenant_id)
            if tenant.version != version:
                from agenthub.errors import VersionConflictError

                raise VersionConflictError(
                    f"tenant {tenant_id!r} is at version {tenant.version}, not {version}",
                    details={"current_version": tenant.version},
                )
            before = {"id": tenant.id, "version": tenant.version}
            before.update({name: getattr(tenant, name) for name in SETTINGS_FIELDS})
            db.delete(tenant)
            db.flush()
            record_change(
                db,
                actor,
                tenant_id=tenant_id,
                action="tenant.delete",
                entity_type="tenant",
                entity_id=tenant_id,
                before=before,
                after=None,
            )
            # Last, inside the transaction: a store failure rolls the deletion back.
            return Outcome(TenantDeleted(tenant_id, self._purge(tenant_id)), NO_TENANT)

        deleted = self._runner.run(work, reason="tenant deleted").value
        if self._forget_cache is not None:
            self._forget_cache(tenant_id)
        return deleted
