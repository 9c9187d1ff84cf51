"""Tools (global config): create, read, change, soft delete.

A tool is saved only if the runtime can build it: its input schema is JSON Schema the registry
can turn into an args model, its config fits its type, and its URL passes the SSRF guard. The
checks (DNS included) run before the transaction, so no row is locked while they run.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agenthub.db.models import ToolConfig
from agenthub.errors import VersionConflictError
from agenthub.observability import redact
from agenthub.repositories import BaseToolRepository, PermissionRepository, ToolConfigRepository
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.audit import Snapshot, record_change
from agenthub.services.admin.changes import NO_TENANT, Changed, ChangeRunner, Outcome
from agenthub.services.admin.inputs import invalid, require_version
from agenthub.services.admin.refs import Ref, tool_id_of
from agenthub.tools import validate_tool_definition
from agenthub.tools.ssrf import Resolver, system_resolver

ENTITY = "tool"
# Fields whose change means the definition must be checked again.
DEFINITION_FIELDS = frozenset({"name", "type", "input_schema", "config"})


@dataclass(frozen=True)
class ToolView:
    tool: ToolConfig

    @property
    def type(self) -> str:
        return self.tool.base_tool.type.value

    def snapshot(self) -> Snapshot:
        tool = self.tool
        config = dict(tool.config)
        if isinstance(config.get("headers"), dict):
            # Static headers are no place for credentials, but keep the audit trail clean anyway.
            config["headers"] = redact(config["headers"])
        return {
            "id": tool.id,
            "name": tool.name,
            "type": self.type,
            "description": tool.description,
            "input_schema": tool.input_schema,
            "config": config,
            "is_active": tool.is_active,
            "version": tool.version,
            "deleted_at": tool.deleted_at,
        }


class ToolAdmin:
    def __init__(self, runner: ChangeRunner, *, resolver: Resolver = system_resolver) -> None:
        self._runner = runner
        self._resolver = resolver

    def list(self, actor: Actor, *, include_deleted: bool = False) -> list[ToolView]:
        actor.require_admin()
        return self._runner.read(
            lambda db: [
                ToolView(t) for t in ToolConfigRepository(db).list(include_deleted=include_deleted)
            ]
        )

    def get(self, actor: Actor, *, tool_id: Ref) -> ToolView:
        actor.require_admin()
        return self._runner.read(
            lambda db: ToolView(ToolConfigRepository(db).require(tool_id_of(db, tool_id)))
        )

    def create(self, actor: Actor, *, fields: Mapping[str, Any]) -> Changed[ToolView]:
        actor.require_platform_admin("create tools")
        values = dict(fields)
        self._validate(values)

        def work(db: Session) -> Outcome[ToolView]:
            base_tool_id = _base_tool_id(db, values.pop("type"))
            tool = ToolConfigRepository(db).create(base_tool_id=base_tool_id, **values)
            view = ToolView(tool)
            _audit(db, actor, "tool.create", view, before=None, after=view.snapshot())
            return Outcome(view, NO_TENANT)

        return self._runner.run(work, reason="tool created")

    def update(
        self,
        actor: Actor,
        *,
        tool_ref: Ref,
        expected_version: int | None,
        changes: Mapping[str, Any],
    ) -> Changed[ToolView]:
        actor.require_platform_admin("change tools")
        version = require_version(expected_version)
        values = dict(changes)
        if DEFINITION_FIELDS & values.keys():
            current = self.get(actor, tool_id=tool_ref)
            if current.tool.version != version:
                raise _stale(current.tool, version)
            self._validate(
                {
                    "name": current.tool.name,
                    "type": current.type,
                    "input_schema": current.tool.input_schema,
                    "config": current.tool.config,
                    **values,
                }
            )

        def work(db: Session) -> Outcome[ToolView]:
            tool_id = tool_id_of(db, tool_ref)
            tools = ToolConfigRepository(db)
            before = ToolView(tools.lock(tool_id)).snapshot()
            if "type" in values:
                values["base_tool_id"] = _base_tool_id(db, values.pop("type"))
            tool = tools.update(tool_id=tool_id, expected_version=version, changes=values)
            view = ToolView(tool)
            _audit(db, actor, "tool.update", view, before=before, after=view.snapshot())
            return Outcome(view, _tenants_of(db, tool_id))

        return self._runner.run(work, reason="tool changed")

    def delete(
        self, actor: Actor, *, tool_ref: Ref, expected_version: int | None
    ) -> Changed[ToolView]:
        """Soft delete: agents stop seeing the tool; the row stays for the audit trail."""
        actor.require_platform_admin("delete tools")

        def work(db: Session) -> Outcome[ToolView]:
            tool_id = tool_id_of(db, tool_ref)
            tools = ToolConfigRepository(db)
            before = ToolView(tools.lock(tool_id)).snapshot()
            affected = _tenants_of(db, tool_id)
            view = ToolView(tools.soft_delete(tool_id=tool_id, expected_version=expected_version))
            _audit(db, actor, "tool.delete", view, before=before, after=view.snapshot())
            return Outcome(view, affected)

        return self._runner.run(work, reason="tool deleted")

    def _validate(self, values: Mapping[str, Any]) -> None:
        validate_tool_definition(
            name=values["name"],
            tool_type=values["type"],
            input_schema=values["input_schema"],
            config=values["config"],
            resolver=self._resolver,
        )


def _base_tool_id(db: Session, tool_type: str) -> uuid.UUID:
    base_tool = BaseToolRepository(db).get_by_type(tool_type)
    if base_tool is None:
        raise invalid("type", f"tool type {tool_type} is not installed on this platform")
    return base_tool.id


def _tenants_of(db: Session, tool_id: uuid.UUID) -> tuple[str, ...]:
    return tuple(PermissionRepository(db).tenants_with_tool(tool_id=tool_id))


def _stale(tool: ToolConfig, expected: int) -> VersionConflictError:
    return VersionConflictError(
        f"tool {tool.name!r} is at version {tool.version}, not {expected}; reload it and try again",
        details={"current_version": tool.version},
    )


def _audit(
    db: Session,
    actor: Actor,
    action: str,
    view: ToolView,
    *,
    before: Snapshot | None,
    after: Snapshot | None,
) -> None:
    record_change(
        db,
        actor,
        tenant_id=None,
        action=action,
        entity_type=ENTITY,
        entity_id=view.tool.id,
        before=before,
        after=after,
    )
