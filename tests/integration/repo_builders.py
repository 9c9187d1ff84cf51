"""Builders and names shared by the repository tests (fixtures: repo_fixtures.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from agenthub.db.models import AgentConfig, BaseTool, OutputFormat, Tenant, ToolConfig, ToolType
from agenthub.repositories import (
    AgentConfigRepository,
    BaseToolRepository,
    OutputFormatRepository,
    TenantRepository,
    ToolConfigRepository,
)

TENANT_A = "tenant-a"
TENANT_B = "tenant-b"


@dataclass(frozen=True)
class Catalogue:
    """The global rows most tests need: one output format and one base tool."""

    output_format: OutputFormat
    http_get: BaseTool


def make_tenants(db: Session, *tenant_ids: str) -> list[Tenant]:
    tenants = TenantRepository(db)
    return [tenants.create(tenant_id=t, name=f"Tenant {t}") for t in tenant_ids]


def make_catalogue(db: Session) -> Catalogue:
    output_format = OutputFormatRepository(db).upsert(
        name="text", renderer_hint="markdown", schema={}, description="plain text"
    )
    http_get = BaseToolRepository(db).upsert(type=ToolType.HTTP_GET, description="GET a URL")
    return Catalogue(output_format=output_format, http_get=http_get)


def make_tool(
    db: Session, catalogue: Catalogue, name: str, *, is_active: bool = True
) -> ToolConfig:
    return ToolConfigRepository(db).create(
        name=name,
        base_tool_id=catalogue.http_get.id,
        description=f"the {name} tool",
        input_schema={"type": "object", "properties": {"q": {"type": "string"}}},
        config={"url": f"https://api.example.test/{name}"},
        is_active=is_active,
    )


def make_agent(
    db: Session, catalogue: Catalogue, name: str, *, is_active: bool = True
) -> AgentConfig:
    return AgentConfigRepository(db).create(
        name=name,
        display_name=name.title(),
        description=f"the {name} agent",
        system_prompt=f"You are the {name} agent.",
        output_format_id=catalogue.output_format.id,
        is_active=is_active,
    )
