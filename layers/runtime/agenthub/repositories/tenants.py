"""Tenants: their settings (optimistic concurrency) and their config version (cache key)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from agenthub.db.models import MultiIntentPolicy, Tenant
from agenthub.errors import ConflictError, NotFoundError
from agenthub.repositories.common import (
    apply_changes,
    check_version,
    enum_value,
    guarded_write,
    load_server_values,
)

# What `update_settings` (and `create`) may set; ids and versions are never taken from input.
TENANT_SETTINGS: frozenset[str] = frozenset(
    {
        "name",
        "is_active",
        "retention_days",
        "multi_intent_policy",
        "memory_max_tokens",
        "rate_limit_per_minute",
    }
)


class TenantRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, tenant_id: str) -> Tenant | None:
        return self.db.get(Tenant, tenant_id)

    def require(self, tenant_id: str) -> Tenant:
        tenant = self.get(tenant_id)
        if tenant is None:
            raise NotFoundError(f"tenant {tenant_id!r} not found")
        return tenant

    def create(self, *, tenant_id: str, name: str, **settings: Any) -> Tenant:
        what = f"tenant {tenant_id!r}"
        if self.get(tenant_id) is not None:
            raise ConflictError(f"{what} already exists")
        tenant = Tenant(id=tenant_id)
        apply_changes(tenant, _normalised(settings), allowed=TENANT_SETTINGS - {"name"}, what=what)
        tenant.name = name
        with guarded_write(self.db, what=what):
            self.db.add(tenant)
        load_server_values(self.db, tenant)
        return tenant

    def list(self) -> builtins.list[Tenant]:
        return builtins.list(self.db.scalars(select(Tenant).order_by(Tenant.id)))

    def update_settings(
        self, *, tenant_id: str, expected_version: int, changes: Mapping[str, Any]
    ) -> Tenant:
        what = f"tenant {tenant_id!r}"
        tenant = self._lock(tenant_id)
        check_version(actual=tenant.version, expected=expected_version, what=what)
        with guarded_write(self.db, what=what):
            apply_changes(tenant, _normalised(changes), allowed=TENANT_SETTINGS, what=what)
        load_server_values(self.db, tenant)
        return tenant

    def touch(self, *, tenant_id: str, expected_version: int) -> Tenant:
        """Move the tenant's row version on without changing a setting.

        For changes to what the tenant's version also covers (its permissions), so that a
        client holding an older version gets a conflict.
        """
        what = f"tenant {tenant_id!r}"
        tenant = self._lock(tenant_id)
        check_version(actual=tenant.version, expected=expected_version, what=what)
        with guarded_write(self.db, what=what):
            tenant.updated_at = func.now()  # any UPDATE moves the version column on
        load_server_values(self.db, tenant)
        return tenant

    def bump_config_version(self, *, tenant_id: str) -> int:
        """Move the tenant to a new config version (every cached runtime config goes stale)."""
        statement = (
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(config_version=Tenant.config_version + 1)
            .returning(Tenant.config_version)
        )
        version = self.db.execute(statement).scalar_one_or_none()
        if version is None:
            raise NotFoundError(f"tenant {tenant_id!r} not found")
        return int(version)

    def lock(self, tenant_id: str) -> Tenant:
        """The row, read fresh and locked (FOR UPDATE) until the transaction ends."""
        return self._lock(tenant_id)

    def _lock(self, tenant_id: str) -> Tenant:
        statement = (
            select(Tenant)
            .where(Tenant.id == tenant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        tenant = self.db.scalars(statement).one_or_none()
        if tenant is None:
            raise NotFoundError(f"tenant {tenant_id!r} not found")
        return tenant


def _normalised(changes: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(changes)
    if "multi_intent_policy" in values:
        values["multi_intent_policy"] = enum_value(
            MultiIntentPolicy, values["multi_intent_policy"], field="multi_intent_policy"
        )
    return values
