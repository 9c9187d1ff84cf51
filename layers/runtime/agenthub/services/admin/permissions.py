"""Which agents and tools a tenant may use, switched on or off by name or id.

The tenant's row version covers its permissions too: a change needs the version the caller
read, and moves it on, so two admins editing the same tenant cannot overwrite each other.
Each tool also shows whether the tenant stored a secret for it (and its masked hint), never the
secret: it is set and removed through `tool_secrets`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from agenthub.crypto import KeyRing
from agenthub.db.models import TenantToolPermission, ToolConfig
from agenthub.repositories import (
    AgentConfigRepository,
    PermissionRepository,
    TenantRepository,
    ToolConfigRepository,
)
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.audit import Snapshot, record_change
from agenthub.services.admin.changes import Changed, ChangeRunner, Outcome
from agenthub.services.admin.inputs import as_uuid, invalid, require_version
from agenthub.services.admin.tool_secrets import secret_hint


@dataclass(frozen=True)
class Switch:
    id: uuid.UUID
    name: str
    enabled: bool


@dataclass(frozen=True)
class ToolSwitch(Switch):
    """A tool's switch, with whether the tenant stored a secret for it (`tenant_secret` tools)."""

    has_secret: bool
    secret_hint: str | None


@dataclass(frozen=True)
class PermissionsView:
    """Every live agent and tool of the catalogue, each on or off for the tenant."""

    tenant_id: str
    version: int
    agents: list[Switch]
    tools: list[ToolSwitch]


class PermissionAdmin:
    def __init__(self, runner: ChangeRunner, *, keyring: KeyRing) -> None:
        self._runner = runner
        self._keyring = keyring

    def get(self, actor: Actor, *, tenant_id: str) -> PermissionsView:
        actor.require_tenant(tenant_id)
        return self._runner.read(lambda db: _view(db, tenant_id, self._keyring))

    def update(
        self,
        actor: Actor,
        *,
        tenant_id: str,
        expected_version: int | None,
        agents: Mapping[str, bool],
        tools: Mapping[str, bool],
    ) -> Changed[PermissionsView]:
        actor.require_tenant(tenant_id)
        version = require_version(expected_version)

        def work(db: Session) -> Outcome[PermissionsView]:
            TenantRepository(db).touch(tenant_id=tenant_id, expected_version=version)
            current = _view(db, tenant_id, self._keyring)
            agent_ids = _resolve(current.agents, agents, field="agents")
            tool_ids = _resolve(current.tools, tools, field="tools")
            permissions = PermissionRepository(db)
            for agent_id, enabled in agent_ids.items():
                permissions.set_agent(tenant_id=tenant_id, agent_id=agent_id, enabled=enabled)
            for tool_id, enabled in tool_ids.items():
                permissions.set_tool(tenant_id=tenant_id, tool_id=tool_id, enabled=enabled)
            after = _view(db, tenant_id, self._keyring)
            record_change(
                db,
                actor,
                tenant_id=tenant_id,
                action="tenant.permissions.update",
                entity_type="tenant_permissions",
                entity_id=tenant_id,
                before=_changed_part(current, agent_ids, tool_ids),
                after=_changed_part(after, agent_ids, tool_ids),
            )
            return Outcome(after, (tenant_id,))

        return self._runner.run(work, reason="tenant permissions changed")


def _view(db: Session, tenant_id: str, keyring: KeyRing) -> PermissionsView:
    tenant = TenantRepository(db).require(tenant_id)
    permissions = PermissionRepository(db)
    agent_on = {
        p.agent_id: p.enabled for p in permissions.list_agent_permissions(tenant_id=tenant_id)
    }
    tool_rows = {p.tool_id: p for p in permissions.list_tool_permissions(tenant_id=tenant_id)}
    return PermissionsView(
        tenant_id=tenant_id,
        version=tenant.version,
        agents=[
            Switch(a.id, a.name, agent_on.get(a.id, False))
            for a in AgentConfigRepository(db).list()
        ],
        tools=[
            _tool_switch(t, tool_rows.get(t.id), keyring) for t in ToolConfigRepository(db).list()
        ],
    )


def _tool_switch(
    tool: ToolConfig, permission: TenantToolPermission | None, keyring: KeyRing
) -> ToolSwitch:
    secret = None if permission is None else permission.encrypted_secret
    return ToolSwitch(
        tool.id,
        tool.name,
        permission is not None and permission.enabled,
        has_secret=secret is not None,
        secret_hint=secret_hint(keyring, secret),
    )


def _resolve(
    known: Sequence[Switch], wanted: Mapping[str, bool], *, field: str
) -> dict[uuid.UUID, bool]:
    """name-or-id -> enabled, as id -> enabled; 422 naming `field.<ref>` for an unknown one."""
    by_name = {s.name: s.id for s in known}
    ids = set(by_name.values())
    resolved: dict[uuid.UUID, bool] = {}
    for reference, enabled in wanted.items():
        ref_id = as_uuid(reference)
        found = ref_id if ref_id in ids else by_name.get(reference)
        if found is None:
            kind = field.removesuffix("s")
            raise invalid(
                f"{field}.{reference}", f"unknown {kind}: not the name or id of a live {kind}"
            )
        resolved[found] = enabled
    return resolved


def _changed_part(
    view: PermissionsView, agents: Mapping[uuid.UUID, bool], tools: Mapping[uuid.UUID, bool]
) -> Snapshot:
    return {
        "version": view.version,
        "agents": {s.name: s.enabled for s in view.agents if s.id in agents},
        "tools": {s.name: s.enabled for s in view.tools if s.id in tools},
    }
