"""Tool types (`base_tools`) and tool instances (`tool_configs`): global, platform-admin managed.

A deleted tool is kept (soft delete, `deleted_at`) for the audit trail and history; it is hidden
from every read unless asked for, and its name is free again.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from agenthub.db.models import BaseTool, ToolConfig, ToolType
from agenthub.errors import NotFoundError
from agenthub.repositories.common import (
    apply_changes,
    check_version,
    enum_value,
    guarded_write,
    load_server_values,
)

TOOL_FIELDS: frozenset[str] = frozenset(
    {"name", "base_tool_id", "description", "input_schema", "config", "is_active"}
)


class BaseToolRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def list(self) -> builtins.list[BaseTool]:
        return builtins.list(self.db.scalars(select(BaseTool).order_by(BaseTool.type)))

    def get(self, id: uuid.UUID) -> BaseTool | None:
        return self.db.get(BaseTool, id)

    def get_by_type(self, type: ToolType | str) -> BaseTool | None:
        tool_type = enum_value(ToolType, type, field="type")
        return self.db.scalars(select(BaseTool).where(BaseTool.type == tool_type)).one_or_none()

    def upsert(
        self,
        type: ToolType | str,
        description: str = "",
        config_schema: dict[str, Any] | None = None,
    ) -> BaseTool:
        tool_type = enum_value(ToolType, type, field="type")
        base_tool = self.get_by_type(tool_type)
        with guarded_write(self.db, what=f"base tool {tool_type.value}"):
            if base_tool is None:
                base_tool = BaseTool(type=tool_type)
                self.db.add(base_tool)
            base_tool.description = description
            base_tool.config_schema = dict(config_schema or {})
        load_server_values(self.db, base_tool)
        return base_tool


class ToolConfigRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def create(
        self,
        *,
        name: str,
        base_tool_id: uuid.UUID,
        description: str,
        input_schema: dict[str, Any],
        config: dict[str, Any] | None = None,
        is_active: bool = True,
    ) -> ToolConfig:
        base_tool = self.db.get(BaseTool, base_tool_id)
        if base_tool is None:
            raise NotFoundError(f"base tool {base_tool_id} not found")
        tool = ToolConfig(
            name=name,
            base_tool=base_tool,
            description=description,
            input_schema=dict(input_schema),
            config=dict(config or {}),
            is_active=is_active,
        )
        what = f"tool {name!r}"
        with guarded_write(self.db, what=what, conflict=f"a tool named {name!r} already exists"):
            self.db.add(tool)
        load_server_values(self.db, tool)
        return tool

    def get(self, tool_id: uuid.UUID, include_deleted: bool = False) -> ToolConfig | None:
        statement = _tools(include_deleted=include_deleted).where(ToolConfig.id == tool_id)
        return self.db.scalars(statement).unique().one_or_none()

    def require(self, tool_id: uuid.UUID) -> ToolConfig:
        tool = self.get(tool_id)
        if tool is None:
            raise NotFoundError(f"tool {tool_id} not found")
        return tool

    def get_by_name(self, name: str) -> ToolConfig | None:
        statement = _tools(include_deleted=False).where(ToolConfig.name == name)
        return self.db.scalars(statement).unique().one_or_none()

    def list(self, include_deleted: bool = False) -> builtins.list[ToolConfig]:
        statement = _tools(include_deleted=include_deleted).order_by(ToolConfig.name)
        return builtins.list(self.db.scalars(statement).unique())

    def update(
        self, *, tool_id: uuid.UUID, expected_version: int, changes: Mapping[str, Any]
    ) -> ToolConfig:
        tool = self._lock(tool_id)
        what = f"tool {tool.name!r}"
        check_version(actual=tool.version, expected=expected_version, what=what)
        conflict = f"a tool named {changes.get('name')!r} already exists"
        with guarded_write(self.db, what=what, conflict=conflict):
            apply_changes(tool, changes, allowed=TOOL_FIELDS, what=what)
        # A new base_tool_id must show through the relationship too.
        self.db.refresh(tool)
        return tool

    def soft_delete(self, *, tool_id: uuid.UUID, expected_version: int | None = None) -> ToolConfig:
        tool = self._lock(tool_id)
        what = f"tool {tool.name!r}"
        check_version(actual=tool.version, expected=expected_version, what=what)
        with guarded_write(self.db, what=what):
            tool.deleted_at = func.now()
        load_server_values(self.db, tool)
        return tool

    def lock(self, tool_id: uuid.UUID) -> ToolConfig:
        """The row, read fresh and locked (FOR UPDATE) until the transaction ends."""
        return self._lock(tool_id)

    def _lock(self, tool_id: uuid.UUID) -> ToolConfig:
        statement = (
            _tools(include_deleted=False)
            .where(ToolConfig.id == tool_id)
            .with_for_update(of=ToolConfig)
            .execution_options(populate_existing=True)
        )
        tool = self.db.scalars(statement).unique().one_or_none()
        if tool is None:
            raise NotFoundError(f"tool {tool_id} not found")
        return tool


def _tools(*, include_deleted: bool) -> Select[ToolConfig]:
    statement = select(ToolConfig)
    if not include_deleted:
        statement = statement.where(ToolConfig.deleted_at.is_(None))
    return statement
