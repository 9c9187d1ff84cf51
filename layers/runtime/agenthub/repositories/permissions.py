"""Which agents and tools each tenant may use (tenant-owned rows: every query takes tenant_id)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from agenthub.db.models import (
    AgentConfig,
    TenantAgentPermission,
    TenantToolPermission,
    ToolConfig,
)
from agenthub.errors import NotFoundError
from agenthub.repositories.common import UNSET, UnsetType, guarded_write, load_server_values


class PermissionRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def set_agent(
        self, *, tenant_id: str, agent_id: uuid.UUID, enabled: bool
    ) -> TenantAgentPermission:
        if self.db.scalar(_live_agent(agent_id)) is None:
            raise NotFoundError(f"agent {agent_id} not found")
        permission = self.db.get(TenantAgentPermission, (tenant_id, agent_id))
        with guarded_write(self.db, what=f"agent permission of tenant {tenant_id!r}"):
            if permission is None:
                permission = TenantAgentPermission(tenant_id=tenant_id, agent_id=agent_id)
                self.db.add(permission)
            permission.enabled = enabled
        load_server_values(self.db, permission)
        return permission

    def set_tool(
        self,
        *,
        tenant_id: str,
        tool_id: uuid.UUID,
        enabled: bool,
        encrypted_secret: bytes | UnsetType | None = UNSET,
    ) -> TenantToolPermission:
        """Enable or disable a tool for the tenant; the secret is kept when UNSET."""
        if self.db.scalar(_live_tool(tool_id)) is None:
            raise NotFoundError(f"tool {tool_id} not found")
        permission = self.db.get(TenantToolPermission, (tenant_id, tool_id))
        with guarded_write(self.db, what=f"tool permission of tenant {tenant_id!r}"):
            if permission is None:
                permission = TenantToolPermission(tenant_id=tenant_id, tool_id=tool_id)
                self.db.add(permission)
            permission.enabled = enabled
            if encrypted_secret is not UNSET:
                permission.encrypted_secret = encrypted_secret
        load_server_values(self.db, permission)
        return permission

    def list_agent_permissions(self, *, tenant_id: str) -> builtins.list[TenantAgentPermission]:
        """The tenant's agent permissions (enabled or not) on live agents, by agent name."""
        statement = (
            select(TenantAgentPermission)
            .join(AgentConfig, AgentConfig.id == TenantAgentPermission.agent_id)
            .where(TenantAgentPermission.tenant_id == tenant_id, AgentConfig.deleted_at.is_(None))
            .order_by(AgentConfig.name)
        )
        return builtins.list(self.db.scalars(statement))

    def list_tool_permissions(self, *, tenant_id: str) -> builtins.list[TenantToolPermission]:
        """The tenant's tool permissions (enabled or not) on live tools, by tool name."""
        statement = (
            select(TenantToolPermission)
            .join(ToolConfig, ToolConfig.id == TenantToolPermission.tool_id)
            .where(TenantToolPermission.tenant_id == tenant_id, ToolConfig.deleted_at.is_(None))
            .order_by(ToolConfig.name)
        )
        return builtins.list(self.db.scalars(statement))

    def tenants_with_agent(self, *, agent_id: uuid.UUID) -> builtins.list[str]:
        """Ids of the tenants that have the agent enabled (whose runtime config it is part of)."""
        statement = (
            select(TenantAgentPermission.tenant_id)
            .where(
                TenantAgentPermission.agent_id == agent_id,
                TenantAgentPermission.enabled.is_(True),
            )
            .order_by(TenantAgentPermission.tenant_id)
        )
        return builtins.list(self.db.scalars(statement))

    def tenants_with_tool(self, *, tool_id: uuid.UUID) -> builtins.list[str]:
        """Ids of the tenants that have the tool enabled."""
        statement = (
            select(TenantToolPermission.tenant_id)
            .where(
                TenantToolPermission.tool_id == tool_id,
                TenantToolPermission.enabled.is_(True),
            )
            .order_by(TenantToolPermission.tenant_id)
        )
        return builtins.list(self.db.scalars(statement))

    def reencrypt_tool_secrets(self, *, tenant_id: str, rotate: Callable[[bytes], bytes]) -> int:
        """Replace each of the tenant's stored tool secrets with `rotate(secret)`; the count."""
        statement = (
            select(TenantToolPermission.tool_id, TenantToolPermission.encrypted_secret)
            .where(
                TenantToolPermission.tenant_id == tenant_id,
                TenantToolPermission.encrypted_secret.is_not(None),
            )
            .order_by(TenantToolPermission.tool_id)
            .with_for_update()
        )
        rows = self.db.execute(statement).all()
        for tool_id, token in rows:
            assert token is not None  # filtered above
            self.db.execute(
                update(TenantToolPermission)
                .where(
                    TenantToolPermission.tenant_id == tenant_id,
                    TenantToolPermission.tool_id == tool_id,
                )
                .values(encrypted_secret=rotate(token)),
                execution_options={"synchronize_session": "fetch"},
            )
        return len(rows)


def _live_agent(agent_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(AgentConfig.id).where(
        AgentConfig.id == agent_id, AgentConfig.deleted_at.is_(None)
    )


def _live_tool(tool_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(ToolConfig.id).where(ToolConfig.id == tool_id, ToolConfig.deleted_at.is_(None))
