"""`agenthub seed demo`: the demo tenants, agents, tools, formats and models. Idempotent.

Agents and tools are global config; tenants get them through permissions. Each run brings the
rows back to the definitions below without duplicating anything and bumps each demo tenant's
config version in PostgreSQL; running containers pick the change up once the caller, after the
commit, publishes a reload for `SeedReport.tenant_ids` (or their cache expires).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from agenthub.crypto import KeyRing, mask_secret
from agenthub.db.models import ToolType
from agenthub.repositories import (
    AgentConfigRepository,
    BaseToolRepository,
    LlmModelRepository,
    OutputFormatRepository,
    PermissionRepository,
    TenantLlmConfigRepository,
    TenantRepository,
    ToolConfigRepository,
)
from agenthub.services.seed_knowledge import seed_knowledge

DEMO_TENANTS = (("acme", "ACME Trading JSC"), ("globex", "Globex Logistics Co."))
MST_PATTERN = r"^[0-9]{10}(-[0-9]{3})?$"

_TEXT = {"type": ["string", "number", "null"]}
OUTPUT_FORMATS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "text": ("markdown", "Plain text answer", {}),
    "card": (
        "card",
        "A titled card of label/value fields",
        {
            "type": "object",
            "required": ["title", "fields"],
            "properties": {
                "title": {"type": "string"},
                "subtitle": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["label", "value"],
                        "properties": {"label": {"type": "string"}, "value": _TEXT},
                    },
                },
            },
        },
    ),
    "table": (
        "table",
        "Columns and rows",
        {
            "type": "object",
            "required": ["columns", "rows"],
            "properties": {
                "columns": {"type": "array", "items": {"type": "string"}},
                "rows": {"type": "array", "items": {"type": "array", "items": _TEXT}},
            },
        },
    ),
    "list": (
        "list",
        "A list of items",
        {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": {"type": "string"}}},
        },
    ),
    "chart": (
        "chart",
        "A bar, line or pie chart",
        {
            "type": "object",
            "required": ["kind", "labels", "series"],
            "properties": {
                "kind": {"enum": ["bar", "line", "pie"]},
                "labels": {"type": "array", "items": {"type": "string"}},
                "series": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "values"],
                        "properties": {
                            "name": {"type": "string"},
                            "values": {"type": "array", "items": {"type": "number"}},
                        },
                    },
                },
            },
        },
    ),
    "sections": (
        "sections",
        "Several agents' answers to one message, one section each",
        {
            "type": "object",
            "required": ["sections"],
            "properties": {"sections": {"type": "array", "items": {"type": "object"}}},
        },
    ),
}

BASE_TOOLS: dict[ToolType, str] = {
    ToolType.HTTP_GET: "HTTP GET to a business API, the end user's JWT forwarded",
    ToolType.HTTP_POST: "HTTP POST with a JSON body to a business API",
    ToolType.RAG: "Knowledge base search (ChromaDB)",
    ToolType.DB_QUERY: "Read-only parameterised SQL query",
    ToolType.OCR: "Text extraction from an uploaded document",
}

# (provider, model, display name, input $/1k tokens, output $/1k tokens, context window)
LLM_MODELS = (
    ("offline", "offline", "Offline deterministic model", "0", "0", 32_000),
    ("openai", "gpt-4o-mini", "OpenAI GPT-4o mini", "0.00015", "0.0006", 128_000),
    ("openai", "gpt-4.1-mini", "OpenAI GPT-4.1 mini", "0.0004", "0.0016", 1_000_000),
    (
        "openrouter",
        "openai/gpt-4o-mini",
        "GPT-4o mini via OpenRouter",
        "0.00015",
        "0.0006",
        128_000,
    ),
    (
        "bedrock",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "Claude 3.5 Haiku on Bedrock",
        "0.0008",
        "0.004",
        200_000,
    ),
)


@dataclass(frozen=True)
class DemoTool:
    name: str
    type: ToolType
    description: str
    input_schema: dict[str, Any]
    path: str
    response_fields: tuple[str, ...] = ()


DEMO_TOOLS = (
    DemoTool(
        name="get_customer_debt_by_mst",
        type=ToolType.HTTP_GET,
        description="Look up a customer's debt in the ERP by MST (Vietnamese tax code)",
        input_schema={
            "type": "object",
            "properties": {
                "mst": {
                    "type": "string",
                    "pattern": MST_PATTERN,
                    "description": "the customer's MST (tax code): 10 digits or 10-3 digits",
                }
            },
            "required": ["mst"],
        },
        path="/erp/customers/{mst}/debt",
        response_fields=(
            "mst",
            "customer_name",
            "currency",
            "total_debt",
            "overdue_debt",
            "credit_limit",
            "due_date",
            "as_of",
        ),
    ),
    DemoTool(
        name="track_shipment",
        type=ToolType.HTTP_GET,
        description="Track a shipment in the logistics system by its tracking id",
        input_schema={
            "type": "object",
            "properties": {
                "tracking_id": {
                    "type": "string",
                    "pattern": r"^SHP-[0-9]{4,}$",
                    "description": "the shipment tracking id, like SHP-1001",
                }
            },
            "required": ["tracking_id"],
        },
        path="/logistics/shipments/{tracking_id}",
        response_fields=(
            "tracking_id",
            "status",
            "origin",
            "destination",
            "carrier",
            "eta",
            "last_update",
        ),
    ),
)

# (name, display name, description, prompt, output format, tools by priority)
DEMO_AGENTS = (
    (
        "debt",
        "Debt",
        "Customer debt and receivables from the ERP: balances, overdue amounts, credit limits "
        "by MST (tax code)",
        "You are the Debt agent. You answer questions about a customer's debt using the ERP "
        "tool. You need the customer's MST (tax code); if it is missing or invalid, ask for it.",
        "card",
        ("get_customer_debt_by_mst",),
    ),
    (
        "shipment",
        "Shipment",
        "Shipment tracking and delivery status from the logistics system, by tracking id",
        "You are the Shipment agent. You track shipments with the logistics tool. You need the "
        "tracking id (like SHP-1001); if it is missing or invalid, ask for it.",
        "card",
        ("track_shipment",),
    ),
)


@dataclass(frozen=True)
class SeedReport:
    tenants: int
    agents: int
    tools: int
    llm: str
    tenant_ids: tuple[str, ...] = ()


def demo_api_url() -> str:
    return os.environ.get("AGENTHUB_DEMO_API_URL", "http://127.0.0.1:8001").rstrip("/")


def detect_provider() -> tuple[str, str, str | None, str | None]:
    """(provider, model, api key, base url) for the demo tenants, from the environment."""
    if os.environ.get("OPENAI_API_KEY"):
        model = os.environ.get("AGENTHUB_OPENAI_MODEL", "gpt-4o-mini")
        return "openai", model, os.environ["OPENAI_API_KEY"], os.environ.get("OPENAI_BASE_URL")
    if os.environ.get("OPENROUTER_API_KEY"):
        model = os.environ.get("AGENTHUB_OPENROUTER_MODEL", "openai/gpt-4o-mini")
        return "openrouter", model, os.environ["OPENROUTER_API_KEY"], None
    if os.environ.get("AGENTHUB_BEDROCK_MODEL"):
        return "bedrock", os.environ["AGENTHUB_BEDROCK_MODEL"], None, None
    return "offline", "offline", None, None


def seed_demo(db: Session, *, keyring: KeyRing, api_url: str | None = None) -> SeedReport:
    base = (api_url or demo_api_url()).rstrip("/")
    formats = OutputFormatRepository(db)
    for name, (hint, description, schema) in OUTPUT_FORMATS.items():
        formats.upsert(name=name, renderer_hint=hint, schema=schema, description=description)
    base_tools = BaseToolRepository(db)
    for tool_type, description in BASE_TOOLS.items():
        base_tools.upsert(type=tool_type, description=description, config_schema={})
    models = LlmModelRepository(db)
    for provider, model, display, price_in, price_out, window in LLM_MODELS:
        models.upsert(
            provider=provider,
            model_name=model,
            display_name=display,
            input_price_per_1k=Decimal(price_in),
            output_price_per_1k=Decimal(price_out),
            context_window=window,
        )

    tools = ToolConfigRepository(db)
    tool_ids = {}
    for demo in DEMO_TOOLS:
        config = {
            "url": f"{base}{demo.path}",
            "auth_mode": "user_jwt",
            "timeout_s": 5,
            "response_fields": list(demo.response_fields),
        }
        fields: dict[str, Any] = {
            "description": demo.description,
            "input_schema": demo.input_schema,
            "config": config,
            "is_active": True,
        }
        existing = tools.get_by_name(demo.name)
        if existing is None:
            base_tool = base_tools.get_by_type(demo.type)
            assert base_tool is not None
            created = tools.create(name=demo.name, base_tool_id=base_tool.id, **fields)
            tool_ids[demo.name] = created.id
        else:
            tools.update(tool_id=existing.id, expected_version=existing.version, changes=fields)
            tool_ids[demo.name] = existing.id

    agents = AgentConfigRepository(db)
    agent_ids = {}
    for name, display, description, prompt, fmt_name, tool_names in DEMO_AGENTS:
        fmt = formats.get_by_name(fmt_name)
        assert fmt is not None
        agent_fields: dict[str, Any] = {
            "display_name": display,
            "description": description,
            "system_prompt": prompt,
            "output_format_id": fmt.id,
            "is_active": True,
        }
        existing_agent = agents.get_by_name(name)
        if existing_agent is None:
            agent_ids[name] = agents.create(name=name, **agent_fields).id
        else:
            agents.update(
                agent_id=existing_agent.id,
                expected_version=existing_agent.version,
                changes=agent_fields,
            )
            agent_ids[name] = existing_agent.id
        for priority, tool_name in enumerate(tool_names, start=1):
            agents.assign_tool(
                agent_id=agent_ids[name], tool_id=tool_ids[tool_name], priority=priority
            )

    provider, model_name, api_key, base_url = detect_provider()
    llm_model = models.get_by_name(provider, model_name)
    if llm_model is None:
        llm_model = models.upsert(
            provider=provider,
            model_name=model_name,
            display_name=model_name,
            input_price_per_1k=Decimal("0"),
            output_price_per_1k=Decimal("0"),
            context_window=128_000,
        )
    tenants = TenantRepository(db)
    permissions = PermissionRepository(db)
    llm_configs = TenantLlmConfigRepository(db)
    for tenant_id, tenant_name in DEMO_TENANTS:
        if tenants.get(tenant_id) is None:
            tenants.create(tenant_id=tenant_id, name=tenant_name)
        for agent_id in agent_ids.values():
            permissions.set_agent(tenant_id=tenant_id, agent_id=agent_id, enabled=True)
        for tool_id in tool_ids.values():
            permissions.set_tool(tenant_id=tenant_id, tool_id=tool_id, enabled=True)
        llm_configs.upsert(
            tenant_id=tenant_id,
            llm_model_id=llm_model.id,
            encrypted_api_key=keyring.encrypt(api_key) if api_key else None,
            api_key_hint=mask_secret(api_key) if api_key else None,
            base_url=base_url,
            temperature=Decimal("0"),
            max_tokens=1024,
            extra={},
        )
        tenants.bump_config_version(tenant_id=tenant_id)
    seed_knowledge(db)  # knowledge: RAG tool, `policies` per tenant (services/seed_knowledge.py)
    return SeedReport(
        tenants=len(DEMO_TENANTS),
        agents=len(agent_ids),
        tools=len(tool_ids),
        llm=f"{provider}:{model_name}",
        tenant_ids=tuple(tenant_id for tenant_id, _ in DEMO_TENANTS),
    )
