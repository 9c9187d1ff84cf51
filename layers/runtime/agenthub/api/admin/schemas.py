"""Request and response schemas of the admin API: `XCreate` / `XUpdate` / `XPublic`.

Requests refuse unknown fields (`extra="forbid"`). An `XUpdate` carries only what changes plus
the `version` that was read (or send it as `If-Match`); a field that may not be empty refuses an
explicit null. Responses to a change add `reload`: "queued", or "pending" when the reload queue
could not be reached (the change is committed either way).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from agenthub.db.models import TENANT_ID_PATTERN, ToolType
from agenthub.services.admin import (
    AgentView,
    Changed,
    PermissionsView,
    ReloadStatus,
    Switch,
    TenantView,
    ToolSecretView,
    ToolSwitch,
    ToolView,
)
from agenthub.services.admin.metrics import MetricsReport
from agenthub.services.usage_metrics import UsageFigures

AGENT_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
TOOL_NAME_PATTERN = r"^[a-zA-Z][a-zA-Z0-9_]{0,63}$"


def _version() -> Any:
    return Field(default=None, ge=1, description='the version you read (or If-Match: "<n>")')


_DEBT_SCHEMA = {
    "type": "object",
    "properties": {"mst": {"type": "string", "pattern": "^[0-9]{10}$", "description": "tax code"}},
    "required": ["mst"],
}


def _forbid(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


def _nul_free(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, dict):
        return all(_nul_free(k) and _nul_free(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_nul_free(item) for item in value)
    return True


class _Input(BaseModel):
    """A request body. PostgreSQL stores no NUL character (text or JSON): refused here, as a
    422 naming the field, instead of failing the lookup or the write with a 500."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_character(cls, value: Any) -> Any:
        if not _nul_free(value):
            raise ValueError("may not contain a NUL character")
        return value


class _Patch(_Input):
    """An update: only the fields given change; `version` says which version was read."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    version: int | None = _version()

    @field_validator("*", mode="before")
    @classmethod
    def _no_null_where_required(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE | {"version"}:
            raise ValueError("may not be null (leave it out to keep the stored value)")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set - {"version"}:
            raise ValueError("nothing to change: give at least one field")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"version"})


# --- agents ------------------------------------------------------------------------------------


class AgentCreate(_Input):
    model_config = _forbid(
        {
            "name": "invoice",
            "display_name": "Invoice",
            "description": "Invoices and payments from the ERP, by invoice number",
            "system_prompt": "You are the Invoice agent. Answer with the ERP invoice tool.",
            "output_format": "card",
        }
    )

    name: str = Field(pattern=AGENT_NAME_PATTERN, description="unique, lowercase")
    display_name: str = Field(min_length=1, max_length=200)
    description: str = Field(
        min_length=1, max_length=2000, description="what the supervisor routes on"
    )
    system_prompt: str = Field(min_length=1, max_length=20_000)
    output_format: str = Field(min_length=1, max_length=64, description="format name or id")
    llm_model_id: uuid.UUID | None = Field(default=None, description="None: the tenant's model")
    is_active: bool = True


class AgentUpdate(_Patch):
    model_config = _forbid(
        {"version": 3, "system_prompt": "You are the Debt agent. Always ask for the MST."},
        {"version": 4, "is_active": False},
    )
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"llm_model_id"})

    name: str | None = Field(default=None, pattern=AGENT_NAME_PATTERN)
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1, max_length=2000)
    system_prompt: str | None = Field(default=None, min_length=1, max_length=20_000)
    output_format: str | None = Field(default=None, min_length=1, max_length=64)
    llm_model_id: uuid.UUID | None = None
    is_active: bool | None = None


class ToolAssignment(_Input):
    model_config = _forbid({"priority": 1})

    priority: int = Field(ge=0, le=10_000, description="lower runs first")


class AgentToolPublic(BaseModel):
    tool_id: uuid.UUID
    name: str
    priority: int


class AgentPublic(BaseModel):
    id: uuid.UUID
    name: str
    display_name: str
    description: str
    system_prompt: str
    output_format: str
    output_format_id: uuid.UUID
    llm_model_id: uuid.UUID | None
    is_active: bool
    version: int
    tools: list[AgentToolPublic]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @classmethod
    def of(cls, view: AgentView) -> Self:
        agent = view.agent
        return cls(
            id=agent.id,
            name=agent.name,
            display_name=agent.display_name,
            description=agent.description,
            system_prompt=agent.system_prompt,
            output_format=agent.output_format.name,
            output_format_id=agent.output_format_id,
            llm_model_id=agent.llm_model_id,
            is_active=agent.is_active,
            version=agent.version,
            tools=[
                AgentToolPublic(tool_id=t.tool_id, name=t.name, priority=t.priority)
                for t in view.tools
            ],
            created_at=agent.created_at,
            updated_at=agent.updated_at,
            deleted_at=agent.deleted_at,
        )


class AgentChange(AgentPublic):
    reload: ReloadStatus

    @classmethod
    def of_change(cls, changed: Changed[AgentView]) -> Self:
        return cls(**AgentPublic.of(changed.value).model_dump(), reload=changed.reload)


class AgentList(BaseModel):
    items: list[AgentPublic]


class ReloadRequest(_Input):
    model_config = _forbid({"tenant_id": "acme"}, {})

    tenant_id: str | None = Field(
        default=None,
        pattern=TENANT_ID_PATTERN,
        description="one tenant; leave out for every tenant (platform admins)",
    )


class ReloadResponse(BaseModel):
    reload: ReloadStatus
    tenant_ids: list[str] | Literal["*"]


# --- tools -------------------------------------------------------------------------------------


class ToolCreate(_Input):
    model_config = _forbid(
        {
            "name": "get_customer_debt_by_mst",
            "type": "HTTP_GET",
            "description": "Look up a customer's debt in the ERP by MST (tax code)",
            "input_schema": _DEBT_SCHEMA,
            "config": {
                "url": "https://erp.example.com/customers/{mst}/debt",
                "auth_mode": "user_jwt",
                "timeout_s": 5,
            },
        }
    )

    name: str = Field(pattern=TOOL_NAME_PATTERN)
    type: ToolType
    description: str = Field(min_length=1, max_length=2000, description="what the model reads")
    input_schema: dict[str, Any] = Field(description="JSON Schema of the tool's arguments")
    config: dict[str, Any] = Field(description="per type; HTTP: url, query, body, auth_mode...")
    is_active: bool = True


class ToolUpdate(_Patch):
    model_config = _forbid(
        {"version": 2, "description": "Customer debt from the ERP by MST"},
        {"version": 5, "config": {"url": "https://erp.example.com/v2/debt/{mst}"}},
    )

    name: str | None = Field(default=None, pattern=TOOL_NAME_PATTERN)
    type: ToolType | None = None
    description: str | None = Field(default=None, min_length=1, max_length=2000)
    input_schema: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    is_active: bool | None = None

    def changes(self) -> dict[str, Any]:
        values = super().changes()
        if "type" in values:
            values["type"] = values["type"].value
        return values


class ToolPublic(BaseModel):
    id: uuid.UUID
    name: str
    type: str
    description: str
    input_schema: dict[str, Any]
    config: dict[str, Any]
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @classmethod
    def of(cls, view: ToolView) -> Self:
        tool = view.tool
        return cls(
            id=tool.id,
            name=tool.name,
            type=view.type,
            description=tool.description,
            input_schema=tool.input_schema,
            config=tool.config,
            is_active=tool.is_active,
            version=tool.version,
            created_at=tool.created_at,
            updated_at=tool.updated_at,
            deleted_at=tool.deleted_at,
        )


class ToolChange(ToolPublic):
    reload: ReloadStatus

    @classmethod
    def of_change(cls, changed: Changed[ToolView]) -> Self:
        return cls(**ToolPublic.of(changed.value).model_dump(), reload=changed.reload)


class ToolList(BaseModel):
    items: list[ToolPublic]


# --- LLM catalogue and tenant LLM config ---------------------------------------------------


# The providers `agenthub.llm.providers` can build (a unit test keeps the two lists equal).
LlmProvider = Literal[
    "offline", "openai", "openrouter", "openai_compatible", "bedrock", "anthropic", "google"
]


def _price(default: Decimal | None) -> Any:
    return Field(default=default, ge=0, le=1000, max_digits=12, decimal_places=6)


class LlmModelCreate(_Input):
    model_config = ConfigDict(
        extra="forbid",
        protected_namespaces=(),
        json_schema_extra={
            "examples": [
                {
                    "provider": "openai_compatible",
                    "model_name": "meta-llama/Llama-3.1-8B-Instruct",
                    "display_name": "Llama 3.1 8B on our vLLM",
                    "input_price_per_1k": "0",
                    "output_price_per_1k": "0",
                    "context_window": 131072,
                    "supports_structured_output": False,
                }
            ]
        },
    )

    provider: LlmProvider
    model_name: str = Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")
    display_name: str = Field(min_length=1, max_length=200)
    input_price_per_1k: Decimal = _price(Decimal("0"))
    output_price_per_1k: Decimal = _price(Decimal("0"))
    context_window: int = Field(default=8192, ge=256, le=100_000_000)
    supports_structured_output: bool = False
    is_active: bool = True


class LlmModelUpdate(_Patch):
    model_config = ConfigDict(
        extra="forbid",
        protected_namespaces=(),
        json_schema_extra={"examples": [{"input_price_per_1k": "0.0002", "version": 1}]},
    )

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    input_price_per_1k: Decimal | None = _price(None)
    output_price_per_1k: Decimal | None = _price(None)
    context_window: int | None = Field(default=None, ge=256, le=100_000_000)
    supports_structured_output: bool | None = None
    is_active: bool | None = None


class LlmModelPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: uuid.UUID
    provider: str
    model_name: str
    display_name: str
    input_price_per_1k: float
    output_price_per_1k: float
    context_window: int
    supports_structured_output: bool
    is_active: bool
    version: int


class LlmModelChange(LlmModelPublic):
    reload: ReloadStatus


class LlmModelList(BaseModel):
    items: list[LlmModelPublic]


class LlmConfigPut(_Input):
    model_config = _forbid(
        {
            "provider": "openai",
            "model_name": "gpt-4o-mini",
            "api_key": "sk-...",
            "temperature": 0.2,
            "max_tokens": 1024,
            "version": 2,
        },
        {"llm_model_id": "6f1c2d7e-0000-4000-8000-000000000000", "max_tokens": 2048},
    )

    llm_model_id: uuid.UUID | None = Field(
        default=None, description="the model's id, or give provider + model_name"
    )
    provider: str | None = Field(default=None, min_length=1, max_length=40)
    model_name: str | None = Field(default=None, min_length=1, max_length=200)
    api_key: SecretStr | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="leave out to keep the stored key, null to remove it; never returned",
    )
    base_url: str | None = Field(default=None, min_length=1, max_length=500)
    temperature: Decimal = Field(default=Decimal("0"), ge=0, le=2, decimal_places=2)
    max_tokens: int = Field(default=1024, ge=1, le=200_000)
    version: int | None = _version()


class LlmConfigPublic(BaseModel):
    """The tenant's LLM configuration; the API key itself is never returned."""

    model_config = ConfigDict(protected_namespaces=())

    llm_model: LlmModelPublic
    base_url: str | None
    temperature: float
    max_tokens: int
    has_api_key: bool
    api_key_hint: str | None
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, config: Any) -> Self:
        return cls(
            llm_model=LlmModelPublic.model_validate(config.llm_model),
            base_url=config.base_url,
            temperature=float(config.temperature),
            max_tokens=config.max_tokens,
            has_api_key=config.encrypted_api_key is not None,
            api_key_hint=config.api_key_hint,
            version=config.version,
            updated_at=config.updated_at,
        )


class LlmConfigChange(LlmConfigPublic):
    reload: ReloadStatus


# --- tenants -----------------------------------------------------------------------------------


class TenantCreate(_Input):
    model_config = _forbid(
        {"id": "initech", "name": "Initech Ltd.", "retention_days": 30},
    )

    id: str = Field(pattern=TENANT_ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    is_active: bool = True
    retention_days: int = Field(default=90, ge=1, le=3650)
    multi_intent_policy: Literal["reject", "parallel"] = "reject"
    memory_max_tokens: int = Field(default=2000, ge=200, le=200_000)
    rate_limit_per_minute: int = Field(default=60, ge=1, le=100_000)


class TenantUpdate(_Patch):
    model_config = _forbid(
        {"version": 1, "retention_days": 30, "multi_intent_policy": "parallel"},
        {"version": 2, "memory_max_tokens": 4000, "rate_limit_per_minute": 120},
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    is_active: bool | None = Field(default=None, description="platform admins only")
    retention_days: int | None = Field(default=None, ge=1, le=3650)
    multi_intent_policy: Literal["reject", "parallel"] | None = None
    memory_max_tokens: int | None = Field(default=None, ge=200, le=200_000)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=100_000)


class TenantPublic(BaseModel):
    id: str
    name: str
    is_active: bool
    retention_days: int
    multi_intent_policy: str
    memory_max_tokens: int
    rate_limit_per_minute: int
    version: int = Field(description="covers the settings and the permissions")
    config_version: int = Field(description="the runtime config cache version")
    llm_config: LlmConfigPublic | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: TenantView) -> Self:
        tenant = view.tenant
        return cls(
            id=tenant.id,
            name=tenant.name,
            is_active=tenant.is_active,
            retention_days=tenant.retention_days,
            multi_intent_policy=tenant.multi_intent_policy.value,
            memory_max_tokens=tenant.memory_max_tokens,
            rate_limit_per_minute=tenant.rate_limit_per_minute,
            version=tenant.version,
            config_version=tenant.config_version,
            llm_config=None if view.llm_config is None else LlmConfigPublic.of(view.llm_config),
            created_at=tenant.created_at,
            updated_at=tenant.updated_at,
        )


class TenantChange(TenantPublic):
    reload: ReloadStatus

    @classmethod
    def of_change(cls, changed: Changed[TenantView]) -> Self:
        return cls(**TenantPublic.of(changed.value).model_dump(), reload=changed.reload)


class TenantList(BaseModel):
    items: list[TenantPublic]


# --- permissions -------------------------------------------------------------------------------


class PermissionsPatch(_Input):
    model_config = _forbid(
        {"version": 3, "agents": {"debt": True, "shipment": False}},
        {"version": 4, "tools": {"track_shipment": False}},
    )

    agents: dict[str, bool] = Field(default_factory=dict, description="agent name or id -> on")
    tools: dict[str, bool] = Field(default_factory=dict, description="tool name or id -> on")
    version: int | None = _version()

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.agents and not self.tools:
            raise ValueError("nothing to change: give agents and/or tools")
        return self


class PermissionPublic(BaseModel):
    id: uuid.UUID
    name: str
    enabled: bool

    @classmethod
    def of(cls, switch: Switch) -> Self:
        return cls(id=switch.id, name=switch.name, enabled=switch.enabled)


class ToolPermissionPublic(PermissionPublic):
    has_secret: bool = Field(description="the tenant stored a secret for the tool")
    secret_hint: str | None = Field(description="the secret, masked; the secret is never returned")

    @classmethod
    def of_tool(cls, switch: ToolSwitch) -> Self:
        return cls(
            id=switch.id,
            name=switch.name,
            enabled=switch.enabled,
            has_secret=switch.has_secret,
            secret_hint=switch.secret_hint,
        )


class PermissionsPublic(BaseModel):
    tenant_id: str
    version: int = Field(description="the tenant's version: send it back to change permissions")
    agents: list[PermissionPublic]
    tools: list[ToolPermissionPublic]

    @classmethod
    def of(cls, view: PermissionsView) -> Self:
        return cls(
            tenant_id=view.tenant_id,
            version=view.version,
            agents=[PermissionPublic.of(s) for s in view.agents],
            tools=[ToolPermissionPublic.of_tool(s) for s in view.tools],
        )


class PermissionsChange(PermissionsPublic):
    reload: ReloadStatus

    @classmethod
    def of_change(cls, changed: Changed[PermissionsView]) -> Self:
        return cls(**PermissionsPublic.of(changed.value).model_dump(), reload=changed.reload)


# --- tool secrets ------------------------------------------------------------------------------


class ToolSecretPut(_Input):
    model_config = _forbid({"secret": "erp-api-key-0123456789abcdef"})

    secret: SecretStr = Field(
        min_length=1,
        max_length=4096,
        description=(
            "the tenant's credential for a tool with auth_mode tenant_secret (sent as Bearer, "
            "or raw in the tool's secret_header); stored encrypted, never returned"
        ),
    )

    @field_validator("secret")
    @classmethod
    def _fits_a_header(cls, secret: SecretStr) -> SecretStr:
        # It is sent in an HTTP header: refuse now what would fail at every call.
        value = secret.get_secret_value()
        if not all(" " <= c <= "~" for c in value):
            raise ValueError("only printable ASCII characters (it is sent in an HTTP header)")
        if value != value.strip():
            raise ValueError("may not start or end with whitespace")
        return secret


class ToolSecretChange(BaseModel):
    """Whether the tenant has a secret for the tool, and its masked hint; never the secret."""

    tenant_id: str
    tool_id: uuid.UUID
    tool_name: str
    enabled: bool = Field(description="the tool is switched on for the tenant (see permissions)")
    has_secret: bool
    secret_hint: str | None
    reload: ReloadStatus

    @classmethod
    def of_change(cls, changed: Changed[ToolSecretView]) -> Self:
        view = changed.value
        return cls(
            tenant_id=view.tenant_id,
            tool_id=view.tool_id,
            tool_name=view.tool_name,
            enabled=view.enabled,
            has_secret=view.has_secret,
            secret_hint=view.secret_hint,
            reload=changed.reload,
        )


# --- metrics -----------------------------------------------------------------------------------


class MetricsFigures(BaseModel):
    agent_calls_total: int | None = Field(description="assistant answers (None per tool)")
    tool_calls_total: int
    tool_errors_total: int
    tool_avg_latency_ms: float | None
    llm_cost_total: float | None = Field(description="USD")
    input_tokens_total: int | None
    output_tokens_total: int | None

    @classmethod
    def of(cls, figures: UsageFigures) -> Self:
        cost = figures.llm_cost_total
        return cls(
            agent_calls_total=figures.agent_calls_total,
            tool_calls_total=figures.tool_calls_total,
            tool_errors_total=figures.tool_errors_total,
            tool_avg_latency_ms=figures.tool_avg_latency_ms,
            llm_cost_total=None if cost is None else float(cost),
            input_tokens_total=figures.input_tokens_total,
            output_tokens_total=figures.output_tokens_total,
        )


class MetricsGroup(MetricsFigures):
    key: str | None = Field(description="the agent, tool or model name")


class MetricsPublic(MetricsFigures):
    tenant_id: str | None = Field(description="None: every tenant")
    period_from: datetime = Field(alias="from")
    period_to: datetime = Field(alias="to")
    group_by: Literal["agent", "tool", "model"] | None
    cache_hit_rate: float | None = Field(description="None when unknown (no data, no Redis)")
    groups: list[MetricsGroup] | None

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    @classmethod
    def of_report(cls, report: MetricsReport) -> Self:
        groups = report.usage.groups
        return cls(
            **MetricsFigures.of(report.usage.totals).model_dump(),
            tenant_id=report.tenant_id,
            period_from=report.start,
            period_to=report.end,
            group_by=report.group_by,
            cache_hit_rate=report.cache_hit_rate,
            groups=None
            if groups is None
            else [
                MetricsGroup(key=g.key, **MetricsFigures.of(g.figures).model_dump()) for g in groups
            ],
        )
