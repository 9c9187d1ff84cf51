"""Agents and tools are addressed by id or by name, in every admin path."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from agenthub.errors import NotFoundError
from agenthub.repositories import AgentConfigRepository, ToolConfigRepository
from agenthub.services.admin.inputs import as_uuid

# What a path carries: a UUID, or a text that is a UUID or a name.
Ref = uuid.UUID | str


def agent_id_of(db: Session, ref: Ref) -> uuid.UUID:
    """The id of the live agent `ref` names (an id is taken as it is: its lookup 404s)."""
    if isinstance(ref, uuid.UUID):
        return ref
    ref_id = as_uuid(ref)
    if ref_id is not None:
        return ref_id
    agent = AgentConfigRepository(db).get_by_name(ref)
    if agent is None:
        raise NotFoundError(f"agent {ref!r} not found")
    return agent.id


def tool_id_of(db: Session, ref: Ref) -> uuid.UUID:
    """The id of the live tool `ref` names."""
    if isinstance(ref, uuid.UUID):
        return ref
    ref_id = as_uuid(ref)
    if ref_id is not None:
        return ref_id
    tool = ToolConfigRepository(db).get_by_name(ref)
    if tool is None:
        raise NotFoundError(f"tool {ref!r} not found")
    return tool.id
