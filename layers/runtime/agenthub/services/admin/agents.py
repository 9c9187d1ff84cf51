"""Agents (global config): create, read, change, soft delete, tool assignment with priority.

Reads are open to every admin; writes are for platform admins. A change reaches the tenants that
have the agent enabled (their config versions move and they get a reload message).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agenthub.db.models import AgentConfig, ToolConfig
from agenthub.errors import NotFoundError
from agenthub.repositories import (
    AgentConfigRepository,
    LlmModelRepository,
    OutputFormatRepository,
    PermissionRepository,
)
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.audit import Snapshot, record_change
from agenthub.services.admin.changes import NO_TENANT, Changed, ChangeRunner, Outcome
from agenthub.services.admin.inputs import as_uuid, invalid, require_version
from agenthub.services.admin.refs import Ref, agent_id_of, tool_id_of

ENTITY = "agent"


@dataclass(frozen=True)
class AgentToolView:
    tool_id: uuid.UUID
    name: str
    priority: int


@dataclass(frozen=True)
class AgentView:
    agent: AgentConfig
    tools: list[AgentToolView]

    def snapshot(self) -> Snapshot:
        agent = self.agent
        return {
            "id": agent.id,
            "name": agent.name,
            "display_name": agent.display_name,
            "description": agent.description,
            "system_prompt": agent.system_prompt,
            "llm_model_id": agent.llm_model_id,
            "output_format": agent.output_format.name,
            "is_active": agent.is_active,
            "version": agent.version,
            "deleted_at": agent.deleted_at,
            "tools": [
                {"tool_id": t.tool_id, "name": t.name, "priority": t.priority} for t in self.tools
            ],
        }


class AgentAdmin:
    def __init__(self, runner: ChangeRunner) -> None:
        self._runner = runner

    def list(self, actor: Actor, *, include_deleted: bool = False) -> list[AgentView]:
        actor.require_admin()

        def work(db: Session) -> list[AgentView]:
            agents = AgentConfigRepository(db)
            rows = agents.list(include_deleted=include_deleted)
            tools = agents.list_tools_of(agent_ids=[a.id for a in rows])
            return [AgentView(a, _tool_views(tools[a.id])) for a in rows]

        return self._runner.read(work)

    def get(self, actor: Actor, *, agent_id: Ref) -> AgentView:
        actor.require_admin()
        return self._runner.read(
            lambda db: _view(db, AgentConfigRepository(db).require(agent_id_of(db, agent_id)))
        )

    def create(self, actor: Actor, *, fields: Mapping[str, Any]) -> Changed[AgentView]:
        actor.require_platform_admin("create agents")

        def work(db: Session) -> Outcome[AgentView]:
            values = _resolved(db, fields)
            agent = AgentConfigRepository(db).create(**values)
            view = AgentView(agent, [])
            _audit(db, actor, "agent.create", view, before=None, after=view.snapshot())
            return Outcome(view, NO_TENANT)

        return self._runner.run(work, reason="agent created")

    def update(
        self,
        actor: Actor,
        *,
        agent_ref: Ref,
        expected_version: int | None,
        changes: Mapping[str, Any],
    ) -> Changed[AgentView]:
        actor.require_platform_admin("change agents")
        version = require_version(expected_version)

        def work(db: Session) -> Outcome[AgentView]:
            agent_id = agent_id_of(db, agent_ref)
            agents = AgentConfigRepository(db)
            before = _view(db, agents.lock(agent_id)).snapshot()
            agent = agents.update(
                agent_id=agent_id, expected_version=version, changes=_resolved(db, changes)
            )
            view = _view(db, agent)
            _audit(db, actor, "agent.update", view, before=before, after=view.snapshot())
            return Outcome(view, _tenants_of(db, agent_id))

        return self._runner.run(work, reason="agent changed")

    def delete(
        self, actor: Actor, *, agent_ref: Ref, expected_version: int | None
    ) -> Changed[AgentView]:
        """Soft delete: the row stays for the audit trail; its name is free again."""
        actor.require_platform_admin("delete agents")

        def work(db: Session) -> Outcome[AgentView]:
            agent_id = agent_id_of(db, agent_ref)
            agents = AgentConfigRepository(db)
            current = _view(db, agents.lock(agent_id))
            before = current.snapshot()
            affected = _tenants_of(db, agent_id)
            agent = agents.soft_delete(agent_id=agent_id, expected_version=expected_version)
            view = AgentView(agent, current.tools)
            _audit(db, actor, "agent.delete", view, before=before, after=view.snapshot())
            return Outcome(view, affected)

        return self._runner.run(work, reason="agent deleted")

    def assign_tool(
        self, actor: Actor, *, agent_ref: Ref, tool_ref: Ref, priority: int
    ) -> Changed[AgentView]:
        """Give the agent the tool at `priority` (lower runs first), or move it there."""
        actor.require_platform_admin("assign tools to agents")

        def work(db: Session) -> Outcome[AgentView]:
            agent_id = agent_id_of(db, agent_ref)
            agents = AgentConfigRepository(db)
            before = _view(db, agents.lock(agent_id)).snapshot()
            agents.assign_tool(
                agent_id=agent_id, tool_id=tool_id_of(db, tool_ref), priority=priority
            )
            view = _view(db, agents.require(agent_id))
            _audit(db, actor, "agent.tool.assign", view, before=before, after=view.snapshot())
            return Outcome(view, _tenants_of(db, agent_id))

        return self._runner.run(work, reason="agent tools changed")

    def unassign_tool(self, actor: Actor, *, agent_ref: Ref, tool_ref: Ref) -> Changed[AgentView]:
        actor.require_platform_admin("unassign tools from agents")

        def work(db: Session) -> Outcome[AgentView]:
            agent_id = agent_id_of(db, agent_ref)
            agents = AgentConfigRepository(db)
            before = _view(db, agents.lock(agent_id)).snapshot()
            if not agents.unassign_tool(agent_id=agent_id, tool_id=tool_id_of(db, tool_ref)):
                raise NotFoundError(f"tool {tool_ref} is not assigned to agent {agent_ref}")
            view = _view(db, agents.require(agent_id))
            _audit(db, actor, "agent.tool.unassign", view, before=before, after=view.snapshot())
            return Outcome(view, _tenants_of(db, agent_id))

        return self._runner.run(work, reason="agent tools changed")


def _view(db: Session, agent: AgentConfig) -> AgentView:
    return AgentView(agent, _tool_views(AgentConfigRepository(db).list_tools(agent_id=agent.id)))


def _tool_views(rows: list[tuple[ToolConfig, int]]) -> list[AgentToolView]:
    return [AgentToolView(tool_id=t.id, name=t.name, priority=p) for t, p in rows]


def _tenants_of(db: Session, agent_id: uuid.UUID) -> tuple[str, ...]:
    return tuple(PermissionRepository(db).tenants_with_agent(agent_id=agent_id))


def _resolved(db: Session, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The input with references turned into ids (422 naming the field when one is unknown)."""
    values = dict(fields)
    if "output_format" in values:
        values["output_format_id"] = _output_format_id(db, str(values.pop("output_format")))
    model_id = values.get("llm_model_id")
    if model_id is not None and LlmModelRepository(db).get(model_id) is None:
        raise invalid("llm_model_id", f"no LLM model has the id {model_id}")
    return values


def _output_format_id(db: Session, reference: str) -> uuid.UUID:
    formats = OutputFormatRepository(db)
    ref_id = as_uuid(reference)
    found = formats.get(ref_id) if ref_id is not None else formats.get_by_name(reference)
    if found is None:
        names = ", ".join(f.name for f in formats.list())
        raise invalid("output_format", f"unknown output format {reference!r} (known: {names})")
    return found.id


def _audit(
    db: Session,
    actor: Actor,
    action: str,
    view: AgentView,
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
        entity_id=view.agent.id,
        before=before,
        after=after,
    )
