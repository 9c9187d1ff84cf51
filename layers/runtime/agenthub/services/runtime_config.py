"""A tenant's runtime configuration, read from PostgreSQL into domain objects.

Only what the tenant may use gets in: enabled agents, and for each its enabled tools, the top
five by priority. Secrets stay encrypted here; they are decrypted where they are used.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agenthub.db.models import AgentConfig, LlmModel, OutputFormat, TenantLlmConfig, ToolConfig
from agenthub.domain import AgentSpec, LlmSpec, OutputFormatSpec, TenantRuntimeConfig, ToolSpec
from agenthub.errors import NotFoundError, ServiceUnavailableError
from agenthub.repositories import (
    DataSourceRepository,
    LlmModelRepository,
    PermissionRepository,
    TenantLlmConfigRepository,
    TenantRepository,
)

MAX_TOOLS_PER_AGENT = 5


def load_runtime_config(db: Session, *, tenant_id: str) -> TenantRuntimeConfig:
    tenant = TenantRepository(db).get(tenant_id)
    if tenant is None or not tenant.is_active:
        raise NotFoundError(f"tenant {tenant_id!r} does not exist")
    llm_config = TenantLlmConfigRepository(db).get(tenant_id=tenant_id)
    if llm_config is None:
        raise ServiceUnavailableError("no LLM is configured for this tenant yet")
    permissions = PermissionRepository(db)
    models = LlmModelRepository(db)
    data_sources = DataSourceRepository(db).encrypted_urls(tenant_id=tenant_id)
    agents = []
    for agent in permissions.permitted_agents(tenant_id=tenant_id):
        tools = permissions.permitted_tools_for_agent(
            tenant_id=tenant_id, agent_id=agent.id, limit=MAX_TOOLS_PER_AGENT
        )
        override = models.get(agent.llm_model_id) if agent.llm_model_id else None
        agents.append(_agent_spec(agent, tools, llm_config, override, data_sources))
    return TenantRuntimeConfig(
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        config_version=tenant.config_version,
        multi_intent_policy=tenant.multi_intent_policy.value,
        memory_max_tokens=tenant.memory_max_tokens,
        rate_limit_per_minute=tenant.rate_limit_per_minute,
        llm=_llm_spec(llm_config.llm_model, llm_config),
        agents=tuple(agents),
    )


def _llm_spec(model: LlmModel, config: TenantLlmConfig) -> LlmSpec:
    # The tenant's key and endpoint only go with a model of the same provider.
    same_provider = model.provider == config.llm_model.provider
    key = config.encrypted_api_key if same_provider else None
    return LlmSpec(
        provider=model.provider,
        model_name=model.model_name,
        encrypted_api_key=key.decode("ascii") if key else None,
        base_url=config.base_url if same_provider else None,
        temperature=float(config.temperature),
        max_tokens=config.max_tokens,
        input_price_per_1k=model.input_price_per_1k,
        output_price_per_1k=model.output_price_per_1k,
        extra=dict(config.extra or {}) if same_provider else {},
    )


def _format_spec(fmt: OutputFormat) -> OutputFormatSpec:
    return OutputFormatSpec(
        name=fmt.name,
        renderer_hint=fmt.renderer_hint,
        json_schema=dict(fmt.schema or {}),
        description=fmt.description,
    )


def _tool_spec(
    tool: ToolConfig, encrypted_secret: bytes | None, data_sources: dict[str, bytes]
) -> ToolSpec:
    # DB_QUERY: the tenant's own data source of the configured name (None: it has none).
    is_query = tool.base_tool.type.value == "DB_QUERY"
    source = (tool.config or {}).get("data_source") if is_query else None
    data_source_url = data_sources.get(source) if isinstance(source, str) else None
    return ToolSpec(
        id=tool.id,
        name=tool.name,
        description=tool.description,
        type=tool.base_tool.type.value,
        input_schema=dict(tool.input_schema),
        config=dict(tool.config or {}),
        encrypted_secret=encrypted_secret.decode("ascii") if encrypted_secret else None,
        encrypted_data_source_url=data_source_url.decode("ascii") if data_source_url else None,
    )


def _agent_spec(
    agent: AgentConfig,
    tools: list[tuple[ToolConfig, bytes | None]],
    llm_config: TenantLlmConfig,
    override: LlmModel | None,
    data_sources: dict[str, bytes],
) -> AgentSpec:
    return AgentSpec(
        id=agent.id,
        name=agent.name,
        display_name=agent.display_name,
        description=agent.description,
        system_prompt=agent.system_prompt,
        output_format=_format_spec(agent.output_format),
        llm=_llm_spec(override, llm_config) if override else None,
        tools=tuple(_tool_spec(tool, secret, data_sources) for tool, secret in tools),
    )
