"""`agenthub seed demo`: the demo tenants, agents, tools, formats and models.

Agents and tools are global config; tenants get them through permissions. A run creates what is
missing and leaves everything that exists as it is, so running it again never undoes an admin's
change (see `SeedContext`). It bumps the config version of the demo tenants whose config it
changed; running containers pick the change up once the caller, after the commit, publishes a
reload for `SeedReport.tenant_ids` (or their cache expires).

Other features add their demo data in their own module (`services/seed_<feature>.py`, a
`seed_<feature>(ctx: SeedContext)` function) and one line in `seed_demo`'s feature block.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agenthub.crypto import KeyRing, mask_secret
from agenthub.db.models import AgentConfig, LlmModel, ToolConfig, ToolType
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
from agenthub.services.seed_analysis import seed_analysis
from agenthub.services.seed_documents import seed_documents
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


@dataclass(frozen=True)
class CatalogueModel:
    """One catalogue entry; prices in USD per 1,000 tokens (list prices, standard tier)."""

    provider: str
    model_name: str
    display_name: str
    input_per_1k: str
    output_per_1k: str
    context_window: int
    structured_output: bool = True


# Current models of every provider AgentHub builds (prices as published by each provider; a
# platform admin corrects them with PATCH /api/admin/llm-models/{id}, which re-seeding keeps).
LLM_MODELS = (
    CatalogueModel("offline", "offline", "Offline deterministic model", "0", "0", 32_000, False),
    # OpenAI
    CatalogueModel("openai", "gpt-4o-mini", "OpenAI GPT-4o mini", "0.00015", "0.0006", 128_000),
    CatalogueModel("openai", "gpt-4o", "OpenAI GPT-4o", "0.0025", "0.01", 128_000),
    CatalogueModel("openai", "gpt-4.1-mini", "OpenAI GPT-4.1 mini", "0.0004", "0.0016", 1_047_576),
    CatalogueModel("openai", "gpt-4.1", "OpenAI GPT-4.1", "0.002", "0.008", 1_047_576),
    CatalogueModel("openai", "gpt-5-mini", "OpenAI GPT-5 mini", "0.00025", "0.002", 400_000),
    CatalogueModel("openai", "gpt-5", "OpenAI GPT-5", "0.00125", "0.01", 400_000),
    # Anthropic
    CatalogueModel(
        "anthropic", "claude-haiku-4-5-20251001", "Claude Haiku 4.5", "0.001", "0.005", 200_000
    ),
    CatalogueModel(
        "anthropic", "claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "0.003", "0.015", 200_000
    ),
    CatalogueModel(
        "anthropic", "claude-opus-4-1-20250805", "Claude Opus 4.1", "0.015", "0.075", 200_000
    ),
    # Google Gemini
    CatalogueModel(
        "google", "gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", "0.0001", "0.0004", 1_048_576
    ),
    CatalogueModel("google", "gemini-2.5-flash", "Gemini 2.5 Flash", "0.0003", "0.0025", 1_048_576),
    CatalogueModel("google", "gemini-2.5-pro", "Gemini 2.5 Pro", "0.00125", "0.01", 1_048_576),
    # OpenRouter (one key, many vendors' models)
    CatalogueModel(
        "openrouter",
        "openai/gpt-4o-mini",
        "GPT-4o mini via OpenRouter",
        "0.00015",
        "0.0006",
        128_000,
    ),
    CatalogueModel(
        "openrouter",
        "anthropic/claude-sonnet-4.5",
        "Claude Sonnet 4.5 via OpenRouter",
        "0.003",
        "0.015",
        200_000,
    ),
    CatalogueModel(
        "openrouter",
        "google/gemini-2.5-flash",
        "Gemini 2.5 Flash via OpenRouter",
        "0.0003",
        "0.0025",
        1_048_576,
    ),
    CatalogueModel(
        "openrouter",
        "meta-llama/llama-3.3-70b-instruct",
        "Llama 3.3 70B via OpenRouter",
        "0.00013",
        "0.0004",
        131_072,
        False,
    ),
    # Amazon Bedrock (the function's IAM role; cross-region inference profiles where required)
    CatalogueModel(
        "bedrock",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "Claude 3.5 Haiku on Bedrock",
        "0.0008",
        "0.004",
        200_000,
    ),
    CatalogueModel(
        "bedrock",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "Claude Sonnet 4.5 on Bedrock",
        "0.003",
        "0.015",
        200_000,
    ),
    CatalogueModel(
        "bedrock", "amazon.nova-lite-v1:0", "Amazon Nova Lite", "0.00006", "0.00024", 300_000
    ),
    CatalogueModel(
        "bedrock", "amazon.nova-pro-v1:0", "Amazon Nova Pro", "0.0008", "0.0032", 300_000
    ),
    # Any OpenAI-compatible server (vLLM, Ollama, LiteLLM, LM Studio): the tenant gives its
    # base_url and key; add the exact model names a server serves with POST /api/admin/llm-models.
    CatalogueModel(
        "openai_compatible",
        "meta-llama/Llama-3.1-8B-Instruct",
        "Llama 3.1 8B (vLLM)",
        "0",
        "0",
        131_072,
        False,
    ),
    CatalogueModel(
        "openai_compatible", "llama3.1:8b", "Llama 3.1 8B (Ollama)", "0", "0", 131_072, False
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
    tenant_ids: tuple[str, ...] = ()  # whose config moved: publish a reload for them
    created: tuple[str, ...] = ()


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


@dataclass
class SeedContext:
    """What every part of the demo seed shares, and what it reports back.

    The rule for each part: create what is missing, leave what exists alone (an admin may have
    changed it: a prompt, a tool's URL, a tenant's LLM, provider and key, a permission switched
    off, a deleted demo agent). Something created for the demo is switched on for the demo
    tenants (`grant_agent` / `grant_tool`), and only then do their config versions move.
    """

    db: Session
    keyring: KeyRing
    api_url: str  # the demo business API, without a trailing slash
    tenant_ids: tuple[str, ...]
    changed_tenants: set[str] = field(default_factory=set)
    created: list[str] = field(default_factory=list)  # "agent debt", "tool ...": for the report

    def grant_agent(self, agent_id: uuid.UUID) -> None:
        permissions = PermissionRepository(self.db)
        for tenant_id in self.tenant_ids:
            permissions.set_agent(tenant_id=tenant_id, agent_id=agent_id, enabled=True)
        self.changed_tenants.update(self.tenant_ids)

    def grant_tool(self, tool_id: uuid.UUID) -> None:
        permissions = PermissionRepository(self.db)
        for tenant_id in self.tenant_ids:
            permissions.set_tool(tenant_id=tenant_id, tool_id=tool_id, enabled=True)
        self.changed_tenants.update(self.tenant_ids)


def seed_demo(db: Session, *, keyring: KeyRing, api_url: str | None = None) -> SeedReport:
    """Load the demo; run again, it only adds what is missing (see SeedContext)."""
    ctx = SeedContext(
        db=db,
        keyring=keyring,
        api_url=(api_url or demo_api_url()).rstrip("/"),
        tenant_ids=tuple(tenant_id for tenant_id, _ in DEMO_TENANTS),
    )
    seed_catalogue(ctx)
    llm = seed_tenants(ctx)
    agents, tools = seed_agents_and_tools(ctx)

    # --- Feature seeds: one line each, calling `seed_<feature>(ctx)` from its own module
    # (services/seed_<feature>.py), following SeedContext's rule. Keep this block last: the
    # tenants, formats and base tools above exist by then.
    if seed_analysis(db, keyring=keyring, tenant_ids=ctx.tenant_ids):
        ctx.changed_tenants.update(ctx.tenant_ids)
    if seed_documents(db, tenant_ids=ctx.tenant_ids):
        ctx.changed_tenants.update(ctx.tenant_ids)
    knowledge = seed_knowledge(db, tenant_ids=ctx.tenant_ids)  # after analysis: its RAG tool
    if (
        knowledge.tool_created
        or knowledge.knowledge_bases_created
        or knowledge.assigned_to_analysis
    ):
        ctx.changed_tenants.update(ctx.tenant_ids)
    # ---

    tenants = TenantRepository(db)
    for tenant_id in sorted(ctx.changed_tenants):
        tenants.bump_config_version(tenant_id=tenant_id)
    return SeedReport(
        tenants=len(DEMO_TENANTS),
        agents=agents,
        tools=tools,
        llm=llm,
        tenant_ids=tuple(sorted(ctx.changed_tenants)),
        created=tuple(ctx.created),
    )


def seed_catalogue(ctx: SeedContext) -> None:
    """Output formats, base tool types and the LLM catalogue: the missing entries only."""
    formats = OutputFormatRepository(ctx.db)
    for name, (hint, description, schema) in OUTPUT_FORMATS.items():
        if formats.get_by_name(name) is None:
            formats.upsert(name=name, renderer_hint=hint, schema=schema, description=description)
    base_tools = BaseToolRepository(ctx.db)
    for tool_type, description in BASE_TOOLS.items():
        if base_tools.get_by_type(tool_type) is None:
            base_tools.upsert(type=tool_type, description=description, config_schema={})
    models = LlmModelRepository(ctx.db)
    for entry in LLM_MODELS:
        if models.get_by_name(entry.provider, entry.model_name) is None:
            models.create(
                provider=entry.provider,
                model_name=entry.model_name,
                display_name=entry.display_name,
                input_price_per_1k=Decimal(entry.input_per_1k),
                output_price_per_1k=Decimal(entry.output_per_1k),
                context_window=entry.context_window,
                supports_structured_output=entry.structured_output,
            )


def seed_tenants(ctx: SeedContext) -> str:
    """The demo tenants, each with an LLM config if it has none (an admin's choice stays)."""
    tenants = TenantRepository(ctx.db)
    llm_configs = TenantLlmConfigRepository(ctx.db)
    provider, model_name, api_key, base_url = detect_provider()
    chosen = f"{provider}:{model_name}"
    for tenant_id, tenant_name in DEMO_TENANTS:
        if tenants.get(tenant_id) is None:
            tenants.create(tenant_id=tenant_id, name=tenant_name)
            ctx.created.append(f"tenant {tenant_id}")
            ctx.changed_tenants.add(tenant_id)
        if llm_configs.get(tenant_id=tenant_id) is None:
            llm_configs.upsert(
                tenant_id=tenant_id,
                llm_model_id=_demo_model(ctx, provider, model_name).id,
                encrypted_api_key=ctx.keyring.encrypt(api_key) if api_key else None,
                api_key_hint=mask_secret(api_key) if api_key else None,
                base_url=base_url,
                temperature=Decimal("0"),
                max_tokens=1024,
                extra={},
            )
            ctx.changed_tenants.add(tenant_id)
    return chosen


def _demo_model(ctx: SeedContext, provider: str, model_name: str) -> LlmModel:
    models = LlmModelRepository(ctx.db)
    found = models.get_by_name(provider, model_name)
    if found is not None:
        return found
    # A model named in the environment (AGENTHUB_OPENAI_MODEL, ...) that the catalogue lacks.
    return models.create(
        provider=provider, model_name=model_name, display_name=model_name, context_window=128_000
    )


def seed_agents_and_tools(ctx: SeedContext) -> tuple[int, int]:
    """The demo tools and agents that were never there (a deleted one stays deleted)."""
    base_tools = BaseToolRepository(ctx.db)
    tools = ToolConfigRepository(ctx.db)
    tool_ids: dict[str, uuid.UUID] = {}
    for demo in DEMO_TOOLS:
        existing = tools.get_by_name(demo.name)
        if existing is not None:
            tool_ids[demo.name] = existing.id
            continue
        if _ever_named(ctx.db, ToolConfig, demo.name):
            continue
        config = {
            "url": f"{ctx.api_url}{demo.path}",
            "auth_mode": "user_jwt",
            "timeout_s": 5,
            "response_fields": list(demo.response_fields),
        }
        base_tool = base_tools.get_by_type(demo.type)
        assert base_tool is not None
        created = tools.create(
            name=demo.name,
            base_tool_id=base_tool.id,
            description=demo.description,
            input_schema=demo.input_schema,
            config=config,
            is_active=True,
        )
        tool_ids[demo.name] = created.id
        ctx.created.append(f"tool {demo.name}")
        ctx.grant_tool(created.id)

    formats = OutputFormatRepository(ctx.db)
    agents = AgentConfigRepository(ctx.db)
    agent_count = 0
    for name, display, description, prompt, fmt_name, tool_names in DEMO_AGENTS:
        if agents.get_by_name(name) is not None:
            agent_count += 1
            continue
        if _ever_named(ctx.db, AgentConfig, name):
            continue
        fmt = formats.get_by_name(fmt_name)
        assert fmt is not None
        agent = agents.create(
            name=name,
            display_name=display,
            description=description,
            system_prompt=prompt,
            output_format_id=fmt.id,
            is_active=True,
        )
        for priority, tool_name in enumerate(tool_names, start=1):
            if tool_name in tool_ids:
                agents.assign_tool(
                    agent_id=agent.id, tool_id=tool_ids[tool_name], priority=priority
                )
        agent_count += 1
        ctx.created.append(f"agent {name}")
        ctx.grant_agent(agent.id)
    return agent_count, len(tool_ids)


def _ever_named(db: Session, model: type[AgentConfig] | type[ToolConfig], name: str) -> bool:
    """A row of that name exists, deleted or not (an admin deleted a demo row: keep it so)."""
    return db.scalar(select(model.id).where(model.name == name).limit(1)) is not None
