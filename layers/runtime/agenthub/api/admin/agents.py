"""`/api/admin/agents`: the global agents, their tools by priority, and config reloads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from agenthub.api.admin.deps import (
    AdminActor,
    Agents,
    IfMatch,
    Reloads,
    set_etag,
    version_from,
)
from agenthub.api.admin.schemas import (
    AgentChange,
    AgentCreate,
    AgentList,
    AgentPublic,
    AgentUpdate,
    ReloadRequest,
    ReloadResponse,
    ToolAssignment,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid token"},
    403: {"description": "not a platform admin (writes), or not an admin"},
    404: {"description": "no such agent or tool"},
    409: {"description": "stale version, or the name is taken"},
    422: {"description": "invalid input; the message and details name the field"},
}

AgentRef = Annotated[str, Path(min_length=1, max_length=64, description="the agent's id or name")]
ToolRef = Annotated[str, Path(min_length=1, max_length=64, description="the tool's id or name")]

router = APIRouter(prefix="/api/admin/agents", tags=["agents"], responses=ERRORS)


@router.post("", status_code=201, response_model=AgentChange, summary="Create an agent")
def create_agent(body: AgentCreate, actor: AdminActor, agents: Agents, response: Response) -> Any:
    changed = agents.create(actor, fields=body.model_dump())
    set_etag(response, changed.value.agent.version)
    return AgentChange.of_change(changed)


@router.get("", response_model=AgentList, summary="List agents")
def list_agents(actor: AdminActor, agents: Agents, include_deleted: bool = False) -> Any:
    views = agents.list(actor, include_deleted=include_deleted)
    return AgentList(items=[AgentPublic.of(v) for v in views])


@router.post(
    "/reload",
    response_model=ReloadResponse,
    summary="Reload one tenant's runtime config, or every tenant's",
)
def reload_config(body: ReloadRequest, actor: AdminActor, reloads: Reloads) -> Any:
    changed = reloads.reload(actor, tenant_id=body.tenant_id)
    tenant_ids = changed.tenant_ids
    return ReloadResponse(
        reload=changed.reload, tenant_ids=tenant_ids if tenant_ids == "*" else list(tenant_ids)
    )


@router.get("/{agent_id}", response_model=AgentPublic, summary="Get one agent")
def get_agent(agent_id: AgentRef, actor: AdminActor, agents: Agents, response: Response) -> Any:
    view = agents.get(actor, agent_id=agent_id)
    set_etag(response, view.agent.version)
    return AgentPublic.of(view)


@router.patch("/{agent_id}", response_model=AgentChange, summary="Change an agent")
def update_agent(
    agent_id: AgentRef,
    body: AgentUpdate,
    actor: AdminActor,
    agents: Agents,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    changed = agents.update(
        actor,
        agent_ref=agent_id,
        expected_version=version_from(if_match, body.version),
        changes=body.changes(),
    )
    set_etag(response, changed.value.agent.version)
    return AgentChange.of_change(changed)


@router.delete("/{agent_id}", response_model=AgentChange, summary="Delete an agent (soft)")
def delete_agent(
    agent_id: AgentRef, actor: AdminActor, agents: Agents, if_match: IfMatch = None
) -> Any:
    changed = agents.delete(
        actor, agent_ref=agent_id, expected_version=version_from(if_match, None)
    )
    return AgentChange.of_change(changed)


@router.put(
    "/{agent_id}/tools/{tool_id}",
    response_model=AgentChange,
    summary="Give the agent a tool at a priority (or move it)",
)
def assign_tool(
    agent_id: AgentRef, tool_id: ToolRef, body: ToolAssignment, actor: AdminActor, agents: Agents
) -> Any:
    changed = agents.assign_tool(
        actor, agent_ref=agent_id, tool_ref=tool_id, priority=body.priority
    )
    return AgentChange.of_change(changed)


@router.delete(
    "/{agent_id}/tools/{tool_id}", response_model=AgentChange, summary="Take a tool away"
)
def unassign_tool(agent_id: AgentRef, tool_id: ToolRef, actor: AdminActor, agents: Agents) -> Any:
    return AgentChange.of_change(agents.unassign_tool(actor, agent_ref=agent_id, tool_ref=tool_id))
