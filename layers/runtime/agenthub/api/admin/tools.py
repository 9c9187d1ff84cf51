"""`/api/admin/tools`: the global tools (schema, config and URL checked before saving)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from agenthub.api.admin.deps import AdminActor, IfMatch, Tools, set_etag, version_from
from agenthub.api.admin.schemas import ToolChange, ToolCreate, ToolList, ToolPublic, ToolUpdate

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid token"},
    403: {"description": "not a platform admin (writes), or not an admin"},
    404: {"description": "no such tool"},
    409: {"description": "stale version, or the name is taken"},
    422: {"description": "invalid input (schema, config, URL refused by the SSRF guard)"},
}

AgentRef = Annotated[str, Path(min_length=1, max_length=64, description="the agent's id or name")]
ToolRef = Annotated[str, Path(min_length=1, max_length=64, description="the tool's id or name")]

router = APIRouter(prefix="/api/admin/tools", tags=["tools"], responses=ERRORS)


@router.post("", status_code=201, response_model=ToolChange, summary="Create a tool")
def create_tool(body: ToolCreate, actor: AdminActor, tools: Tools, response: Response) -> Any:
    fields = body.model_dump()
    fields["type"] = body.type.value
    changed = tools.create(actor, fields=fields)
    set_etag(response, changed.value.tool.version)
    return ToolChange.of_change(changed)


@router.get("", response_model=ToolList, summary="List tools")
def list_tools(actor: AdminActor, tools: Tools, include_deleted: bool = False) -> Any:
    return ToolList(
        items=[ToolPublic.of(v) for v in tools.list(actor, include_deleted=include_deleted)]
    )


@router.get("/{tool_id}", response_model=ToolPublic, summary="Get one tool")
def get_tool(tool_id: ToolRef, actor: AdminActor, tools: Tools, response: Response) -> Any:
    view = tools.get(actor, tool_id=tool_id)
    set_etag(response, view.tool.version)
    return ToolPublic.of(view)


@router.patch("/{tool_id}", response_model=ToolChange, summary="Change a tool")
def update_tool(
    tool_id: ToolRef,
    body: ToolUpdate,
    actor: AdminActor,
    tools: Tools,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    changed = tools.update(
        actor,
        tool_ref=tool_id,
        expected_version=version_from(if_match, body.version),
        changes=body.changes(),
    )
    set_etag(response, changed.value.tool.version)
    return ToolChange.of_change(changed)


@router.delete("/{tool_id}", response_model=ToolChange, summary="Delete a tool (soft)")
def delete_tool(tool_id: ToolRef, actor: AdminActor, tools: Tools, if_match: IfMatch = None) -> Any:
    changed = tools.delete(actor, tool_ref=tool_id, expected_version=version_from(if_match, None))
    return ToolChange.of_change(changed)
