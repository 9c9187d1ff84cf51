"""Agent configurations (global, soft delete) and their tool assignments with priority."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from agenthub.db.models import AgentConfig, AgentTool, LlmModel, OutputFormat, ToolConfig
from agenthub.errors import NotFoundError
from agenthub.repositories.common import (
    apply_changes,
    check_version,
    guarded_write,
    load_server_values,
)

AGENT_FIELDS: frozenset[str] = frozenset(
    {
        "name",
        "display_name",
        "description",
        "system_prompt",
        "llm_model_id",
        "output_format_id",
        "is_active",
    }
)


class AgentConfigRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def create(
        self,
        *,
        name: str,
        display_name: str,
        description: str,
        system_prompt: str,
        output_format_id: uuid.UUID,
        llm_model_id: uuid.UUID | None = None,
        is_active: bool = True,
    ) -> AgentConfig:
        output_format = self.db.get(OutputFormat, output_format_id)
        if output_format is None:
            raise NotFoundError(f"output format {output_format_id} not found")
        if llm_model_id is not None and self.db.get(LlmModel, llm_model_id) is None:
            raise NotFoundError(f"LLM model {llm_model_id} not found")
        agent = AgentConfig(
            name=name,
            display_name=display_name,
            description=description,
            system_prompt=system_prompt,
            output_format=output_format,
            llm_model_id=llm_model_id,
            is_active=is_active,
        )
        conflict = f"an agent named {name!r} already exists"
        with guarded_write(self.db, what=f"agent {name!r}", conflict=conflict):
            self.db.add(agent)
        load_server_values(self.db, agent)
        return agent

    def get(self, agent_id: uuid.UUID, include_deleted: bool = False) -> AgentConfig | None:
        statement = _agents(include_deleted=include_deleted).where(AgentConfig.id == agent_id)
        return self.db.scalars(statement).unique().one_or_none()

    def require(self, agent_id: uuid.UUID) -> AgentConfig:
        agent = self.get(agent_id)
        if agent is None:
            raise NotFoundError(f"agent {agent_id} not found")
        return agent

    def get_by_name(self, name: str) -> AgentConfig | None:
        statement = _agents(include_deleted=False).where(AgentConfig.name == name)
        return self.db.scalars(statement).unique().one_or_none()

    def list(self, include_deleted: bool = False) -> builtins.list[AgentConfig]:
        statement = _agents(include_deleted=include_deleted).order_by(AgentConfig.name)
        return builtins.list(self.db.scalars(statement).unique())

    def update(
        self, *, agent_id: uuid.UUID, expected_version: int, changes: Mapping[str, Any]
    ) -> AgentConfig:
        agent = self._lock(agent_id)
        what = f"agent {agent.name!r}"
        check_version(actual=agent.version, expected=expected_version, what=what)
        conflict = f"an agent named {changes.get('name')!r} already exists"
        with guarded_write(self.db, what=what, conflict=conflict):
            apply_changes(agent, changes, allowed=AGENT_FIELDS, what=what)
        # A new output_format_id must show through the relationship too.
        self.db.refresh(agent)
        return agent

    def soft_delete(
        self, *, agent_id: uuid.UUID, expected_version: int | None = None
    ) -> AgentConfig:
        agent = self._lock(agent_id)
        what = f"agent {agent.name!r}"
        check_version(actual=agent.version, expected=expected_version, what=what)
        with guarded_write(self.db, what=what):
            agent.deleted_at = func.now()
        load_server_values(self.db, agent)
        return agent

    def assign_tool(self, *, agent_id: uuid.UUID, tool_id: uuid.UUID, priority: int) -> AgentTool:
        """Give the agent the tool at `priority` (lower runs first), or move it there."""
        self.require(agent_id)
        if self.db.scalars(_live_tool(tool_id)).first() is None:
            raise NotFoundError(f"tool {tool_id} not found")
        assignment = self.db.get(AgentTool, (agent_id, tool_id))
        with guarded_write(self.db, what=f"tool {tool_id} of agent {agent_id}"):
            if assignment is None:
                assignment = AgentTool(agent_id=agent_id, tool_id=tool_id)
                self.db.add(assignment)
            assignment.priority = priority
        load_server_values(self.db, assignment)
        return assignment

    def unassign_tool(self, *, agent_id: uuid.UUID, tool_id: uuid.UUID) -> bool:
        """Take the tool away from the agent; False when it was not assigned."""
        statement = delete(AgentTool).where(
            AgentTool.agent_id == agent_id, AgentTool.tool_id == tool_id
        )
        removed = self.db.execute(statement, execution_options={"synchronize_session": "fetch"})
        return bool(getattr(removed, "rowcount", 0))

    def list_tools(self, *, agent_id: uuid.UUID) -> builtins.list[tuple[ToolConfig, int]]:
        """The agent's live tools (active or not) with their priority, lowest priority first."""
        statement = (
            select(ToolConfig, AgentTool.priority)
            .join(AgentTool, AgentTool.tool_id == ToolConfig.id)
            .where(AgentTool.agent_id == agent_id, ToolConfig.deleted_at.is_(None))
            .order_by(AgentTool.priority, ToolConfig.name)
        )
        return [(tool, priority) for tool, priority in self.db.execute(statement).unique()]

    def list_tools_of(
        self, *, agent_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, builtins.list[tuple[ToolConfig, int]]]:
        """`list_tools` for several agents in one query; every asked agent has an entry."""
        wanted = builtins.list(dict.fromkeys(agent_ids))
        by_agent: dict[uuid.UUID, builtins.list[tuple[ToolConfig, int]]] = {a: [] for a in wanted}
        if not wanted:
            return by_agent
        statement = (
            select(AgentTool.agent_id, ToolConfig, AgentTool.priority)
            .join(ToolConfig, AgentTool.tool_id == ToolConfig.id)
            .where(AgentTool.agent_id.in_(wanted), ToolConfig.deleted_at.is_(None))
            .order_by(AgentTool.agent_id, AgentTool.priority, ToolConfig.name)
        )
        for agent_id, tool, priority in self.db.execute(statement).unique():
            by_agent[agent_id].append((tool, priority))
        return by_agent

    def lock(self, agent_id: uuid.UUID) -> AgentConfig:
        """The row, read fresh and locked (FOR UPDATE) until the transaction ends."""
        return self._lock(agent_id)

    def _lock(self, agent_id: uuid.UUID) -> AgentConfig:
        statement = (
            _agents(include_deleted=False)
            .where(AgentConfig.id == agent_id)
            .with_for_update(of=AgentConfig)
            .execution_options(populate_existing=True)
        )
        agent = self.db.scalars(statement).unique().one_or_none()
        if agent is None:
            raise NotFoundError(f"agent {agent_id} not found")
        return agent


def _agents(*, include_deleted: bool) -> Select[AgentConfig]:
    statement = select(AgentConfig)
    if not include_deleted:
        statement = statement.where(AgentConfig.deleted_at.is_(None))
    return statement


def _live_tool(tool_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(ToolConfig.id).where(ToolConfig.id == tool_id, ToolConfig.deleted_at.is_(None))
