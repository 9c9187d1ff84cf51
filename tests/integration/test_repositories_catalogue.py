"""Global config repositories: output formats, base tools, tools and agents (soft delete)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.engine import transaction
from agenthub.db.models import ToolType
from agenthub.errors import (
    ConflictError,
    NotFoundError,
    ValidationFailedError,
    VersionConflictError,
)
from agenthub.repositories import (
    AgentConfigRepository,
    BaseToolRepository,
    OutputFormatRepository,
    ToolConfigRepository,
)
from agenthub.repositories.common import guarded_write
from tests.integration.repo_builders import make_agent, make_catalogue, make_tool

pytest_plugins = ["tests.integration.repo_fixtures"]


def test_output_format_upsert_updates_in_place_and_moves_the_version(repo_db: Session) -> None:
    formats = OutputFormatRepository(repo_db)
    created = formats.upsert("table", "table", {"type": "object"}, "rows")
    updated = formats.upsert("table", "grid", {"type": "array"}, "cells")
    assert updated.id == created.id
    assert (updated.renderer_hint, updated.schema, updated.version) == (
        "grid",
        {"type": "array"},
        2,
    )
    formats.upsert("card", "card")
    assert [f.name for f in formats.list()] == ["card", "table"]
    assert formats.get_by_name("missing") is None
    assert formats.get(created.id) is updated


def test_base_tool_upsert_is_keyed_by_type(repo_db: Session) -> None:
    base_tools = BaseToolRepository(repo_db)
    first = base_tools.upsert("RAG", "search documents", {"type": "object"})
    again = base_tools.upsert(ToolType.RAG, "semantic search")
    assert again.id == first.id and again.description == "semantic search"
    assert base_tools.get_by_type("RAG") is again
    assert base_tools.get_by_type(ToolType.OCR) is None
    with pytest.raises(ValidationFailedError, match="type must be one of"):
        base_tools.get_by_type("FTP")


def test_tool_create_get_list_and_duplicate_name(repo_db: Session) -> None:
    catalogue = make_catalogue(repo_db)
    tools = ToolConfigRepository(repo_db)
    lookup = make_tool(repo_db, catalogue, "lookup")
    make_tool(repo_db, catalogue, "archive")
    assert tools.get(lookup.id) is lookup
    assert tools.get_by_name("lookup") is lookup
    assert lookup.base_tool.type is ToolType.HTTP_GET
    assert [t.name for t in tools.list()] == ["archive", "lookup"]
    with pytest.raises(ConflictError, match="already exists"):
        make_tool(repo_db, catalogue, "lookup")
    with pytest.raises(NotFoundError, match="base tool"):
        tools.create(name="x", base_tool_id=uuid.uuid4(), description="", input_schema={})


def test_tool_update_checks_the_version_and_allowed_fields(repo_db: Session) -> None:
    catalogue = make_catalogue(repo_db)
    tools = ToolConfigRepository(repo_db)
    tool = make_tool(repo_db, catalogue, "lookup")
    make_tool(repo_db, catalogue, "taken")
    updated = tools.update(
        tool_id=tool.id, expected_version=1, changes={"description": "new", "is_active": False}
    )
    assert (updated.description, updated.is_active, updated.version) == ("new", False, 2)
    with pytest.raises(VersionConflictError):
        tools.update(tool_id=tool.id, expected_version=1, changes={"description": "lost"})
    with pytest.raises(ValidationFailedError, match="deleted_at"):
        tools.update(tool_id=tool.id, expected_version=2, changes={"deleted_at": None})
    with pytest.raises(ConflictError, match="'taken' already exists"):
        tools.update(tool_id=tool.id, expected_version=2, changes={"name": "taken"})
    assert tools.require(tool.id).description == "new"


def test_soft_deleted_tool_is_hidden_and_frees_its_name(repo_db: Session) -> None:
    catalogue = make_catalogue(repo_db)
    tools = ToolConfigRepository(repo_db)
    tool = make_tool(repo_db, catalogue, "lookup")
    # WHEN the tool is soft deleted
    deleted = tools.soft_delete(tool_id=tool.id, expected_version=1)
    # THEN it is kept but hidden from every default read
    assert deleted.deleted_at is not None
    assert tools.get(tool.id) is None
    assert tools.get_by_name("lookup") is None
    assert tools.list() == []
    assert tools.get(tool.id, include_deleted=True) is deleted
    assert [t.id for t in tools.list(include_deleted=True)] == [tool.id]
    with pytest.raises(NotFoundError):
        tools.update(tool_id=tool.id, expected_version=2, changes={"description": "zombie"})
    with pytest.raises(NotFoundError):
        tools.soft_delete(tool_id=tool.id)
    # AND its name can be used again
    reborn = make_tool(repo_db, catalogue, "lookup")
    assert reborn.id != tool.id and tools.get_by_name("lookup") is reborn


def test_soft_delete_with_a_stale_version_is_a_conflict(repo_db: Session) -> None:
    catalogue = make_catalogue(repo_db)
    tools = ToolConfigRepository(repo_db)
    tool = make_tool(repo_db, catalogue, "lookup")
    tools.update(tool_id=tool.id, expected_version=1, changes={"description": "v2"})
    with pytest.raises(VersionConflictError):
        tools.soft_delete(tool_id=tool.id, expected_version=1)
    assert tools.get(tool.id) is not None


def test_a_concurrent_change_to_a_loaded_row_becomes_a_version_conflict(
    repo_factory: sessionmaker[Session],
) -> None:
    """StaleDataError from the mapper's version check is translated at the boundary."""
    with transaction(repo_factory) as db:
        tool_id = make_tool(db, make_catalogue(db), "lookup").id
    with repo_factory() as mine:
        stale = ToolConfigRepository(mine).require(tool_id)
        with transaction(repo_factory) as theirs:
            ToolConfigRepository(theirs).update(
                tool_id=tool_id, expected_version=1, changes={"description": "theirs"}
            )
        with pytest.raises(VersionConflictError), guarded_write(mine, what="tool"):
            stale.description = "mine"


def test_agent_crud_soft_delete_and_name_reuse(repo_db: Session) -> None:
    catalogue = make_catalogue(repo_db)
    agents = AgentConfigRepository(repo_db)
    debt = make_agent(repo_db, catalogue, "debt")
    make_agent(repo_db, catalogue, "analysis")
    assert [a.name for a in agents.list()] == ["analysis", "debt"]
    assert agents.get_by_name("debt") is debt and agents.get(debt.id) is debt
    assert debt.output_format.name == "text"
    with pytest.raises(ConflictError):
        make_agent(repo_db, catalogue, "debt")

    other_format = OutputFormatRepository(repo_db).upsert("table", "table")
    updated = agents.update(
        agent_id=debt.id,
        expected_version=1,
        changes={"system_prompt": "Be brief.", "output_format_id": other_format.id},
    )
    assert (updated.system_prompt, updated.version) == ("Be brief.", 2)
    assert updated.output_format.name == "table"
    with pytest.raises(VersionConflictError):
        agents.update(agent_id=debt.id, expected_version=1, changes={"description": "x"})

    agents.soft_delete(agent_id=debt.id, expected_version=2)
    assert agents.get(debt.id) is None and agents.get_by_name("debt") is None
    assert [a.name for a in agents.list()] == ["analysis"]
    assert agents.get(debt.id, include_deleted=True) is not None
    assert make_agent(repo_db, catalogue, "debt").id != debt.id


def test_agent_create_refuses_unknown_references(repo_db: Session) -> None:
    catalogue = make_catalogue(repo_db)
    agents = AgentConfigRepository(repo_db)
    fields = {"display_name": "X", "description": "x", "system_prompt": "x"}
    with pytest.raises(NotFoundError, match="output format"):
        agents.create(name="x", output_format_id=uuid.uuid4(), **fields)
    with pytest.raises(NotFoundError, match="LLM model"):
        agents.create(
            name="x",
            output_format_id=catalogue.output_format.id,
            llm_model_id=uuid.uuid4(),
            **fields,
        )
    with pytest.raises(ValidationFailedError, match="name_format"):
        agents.create(name="Bad Name", output_format_id=catalogue.output_format.id, **fields)


def test_assigned_tools_are_listed_by_priority_then_name_without_deleted_ones(
    repo_db: Session,
) -> None:
    catalogue = make_catalogue(repo_db)
    agents = AgentConfigRepository(repo_db)
    agent = make_agent(repo_db, catalogue, "debt")
    tools = {name: make_tool(repo_db, catalogue, name) for name in ("c", "b", "a", "gone")}
    agents.assign_tool(agent_id=agent.id, tool_id=tools["c"].id, priority=1)
    agents.assign_tool(agent_id=agent.id, tool_id=tools["b"].id, priority=5)
    agents.assign_tool(agent_id=agent.id, tool_id=tools["a"].id, priority=5)
    agents.assign_tool(agent_id=agent.id, tool_id=tools["gone"].id, priority=0)
    ToolConfigRepository(repo_db).soft_delete(tool_id=tools["gone"].id)
    assert [(t.name, p) for t, p in agents.list_tools(agent_id=agent.id)] == [
        ("c", 1),
        ("a", 5),
        ("b", 5),
    ]
    # Re-assigning moves the tool; unassigning removes it once.
    agents.assign_tool(agent_id=agent.id, tool_id=tools["c"].id, priority=9)
    assert [t.name for t, _ in agents.list_tools(agent_id=agent.id)] == ["a", "b", "c"]
    assert agents.unassign_tool(agent_id=agent.id, tool_id=tools["a"].id) is True
    assert agents.unassign_tool(agent_id=agent.id, tool_id=tools["a"].id) is False
    assert [t.name for t, _ in agents.list_tools(agent_id=agent.id)] == ["b", "c"]


def test_assign_tool_refuses_deleted_or_unknown_agents_and_tools(repo_db: Session) -> None:
    catalogue = make_catalogue(repo_db)
    agents = AgentConfigRepository(repo_db)
    agent = make_agent(repo_db, catalogue, "debt")
    tool = make_tool(repo_db, catalogue, "lookup")
    with pytest.raises(NotFoundError, match="tool"):
        agents.assign_tool(agent_id=agent.id, tool_id=uuid.uuid4(), priority=1)
    with pytest.raises(NotFoundError, match="agent"):
        agents.assign_tool(agent_id=uuid.uuid4(), tool_id=tool.id, priority=1)
    ToolConfigRepository(repo_db).soft_delete(tool_id=tool.id)
    with pytest.raises(NotFoundError, match="tool"):
        agents.assign_tool(agent_id=agent.id, tool_id=tool.id, priority=1)
