"""An explicit reload: make one tenant (or every tenant) rebuild its runtime config.

Moves the config versions in PostgreSQL and sends the reload message, like any change does.
A tenant admin may reload only their own tenant; reloading every tenant is for platform admins.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agenthub.repositories import TenantRepository
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.audit import record_change
from agenthub.services.admin.changes import Affected, Changed, ChangeRunner, Outcome
from agenthub.services.reload import ALL_TENANTS


class ReloadAdmin:
    def __init__(self, runner: ChangeRunner) -> None:
        self._runner = runner

    def reload(self, actor: Actor, *, tenant_id: str | None) -> Changed[Affected]:
        """`tenant_id` None: the caller's own tenant for a tenant admin, every tenant for a
        platform admin."""
        actor.require_admin()
        if tenant_id is None and not actor.is_platform_admin:
            tenant_id = actor.tenant_id
        if tenant_id is not None:
            actor.require_tenant(tenant_id)

        def work(db: Session) -> Outcome[Affected]:
            affected: Affected = ALL_TENANTS
            if tenant_id is not None:
                TenantRepository(db).require(tenant_id)
                affected = (tenant_id,)
            record_change(
                db,
                actor,
                tenant_id=tenant_id,
                action="config.reload",
                entity_type="tenant",
                entity_id=tenant_id or ALL_TENANTS,
                before=None,
                after=None,
            )
            return Outcome(affected, affected)

        return self._runner.run(work, reason="reload requested by an admin")
