"""A tenant's runtime configuration, read from PostgreSQL in plain SQL on the container's pool.

A chat turn reads it when its config is in no cache: a cold container whose tenant was quiet
for longer than the cache's TTL, which is the first message after every quiet hour. Through the
ORM, that turn would first import SQLAlchemy and map every model (about 0.6 s of a cold start,
measured with bench/cold_start.py --config-miss); here it is four statements on psycopg,
which the chat function has loaded anyway.

Only what the tenant may use gets in: its enabled, live agents (by name), and for each its
enabled, live tools, the top `MAX_TOOLS_PER_AGENT` by priority then name. Secrets stay
encrypted; they are decrypted where they are used. The admin API writes these tables through
the ORM models (agenthub.db.models); tests/integration/test_tenant_config.py holds this reader
to what the admin API configures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from psycopg.rows import dict_row

from agenthub.domain import AgentSpec, LlmSpec, OutputFormatSpec, TenantRuntimeConfig, ToolSpec
from agenthub.errors import NotFoundError, ServiceUnavailableError

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

MAX_TOOLS_PER_AGENT = 5

_VERSION = "SELECT config_version FROM tenants WHERE id = %(tenant_id)s"

_TENANT = """
SELECT t.name, t.is_active, t.config_version, t.multi_intent_policy::text AS multi_intent_policy,
       t.memory_max_tokens, t.rate_limit_per_minute,
       c.id IS NOT NULL AS has_llm, c.encrypted_api_key, c.base_url, c.temperature,
       c.max_tokens, c.extra,
       m.provider, m.model_name, m.input_price_per_1k, m.output_price_per_1k
FROM tenants AS t
LEFT JOIN tenant_llm_configs AS c ON c.tenant_id = t.id
LEFT JOIN llm_models AS m ON m.id = c.llm_model_id
WHERE t.id = %(tenant_id)s
"""

# The agents the tenant may use, each with its output format and its own model, if any.
_AGENTS = """
SELECT a.id, a.name, a.display_name, a.description, a.system_prompt,
       f.name AS format_name, f.renderer_hint, f.schema AS format_schema,
       f.description AS format_description,
       om.provider, om.model_name, om.input_price_per_1k, om.output_price_per_1k
FROM agent_configs AS a
JOIN tenant_agent_permissions AS p ON p.agent_id = a.id
JOIN output_formats AS f ON f.id = a.output_format_id
LEFT JOIN llm_models AS om ON om.id = a.llm_model_id
WHERE p.tenant_id = %(tenant_id)s AND p.enabled AND a.is_active AND a.deleted_at IS NULL
ORDER BY a.name
"""

# Each of those agents' top tools the tenant may use, with the tenant's secret for each.
_TOOLS = """
SELECT agent_id, id, name, description, type, input_schema, config, encrypted_secret
FROM (
  SELECT at.agent_id, tc.id, tc.name, tc.description, bt.type::text AS type, tc.input_schema,
         tc.config, tp.encrypted_secret,
         row_number() OVER (PARTITION BY at.agent_id ORDER BY at.priority, tc.name) AS rank
  FROM agent_tools AS at
  JOIN tool_configs AS tc ON tc.id = at.tool_id
  JOIN base_tools AS bt ON bt.id = tc.base_tool_id
  JOIN tenant_tool_permissions AS tp ON tp.tool_id = tc.id
  WHERE at.agent_id = ANY(%(agent_ids)s) AND tp.tenant_id = %(tenant_id)s AND tp.enabled
    AND tc.is_active AND tc.deleted_at IS NULL
) AS ranked
WHERE rank <= %(limit)s
ORDER BY agent_id, rank
"""

_DATA_SOURCES = (
    "SELECT name, encrypted_url FROM tenant_data_sources WHERE tenant_id = %(tenant_id)s"
)


class TenantConfigReader:
    """The tenant's config version and runtime config, on the container's psycopg pool."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool

    def version(self, tenant_id: str) -> int | None:
        """The tenant's config version; None: no such tenant."""
        with self._pool.connection() as conn:
            row = _cursor(conn).execute(_VERSION, {"tenant_id": tenant_id}).fetchone()
        return None if row is None else int(row["config_version"])

    def load(self, tenant_id: str) -> TenantRuntimeConfig:
        """What the tenant's turns may use (NotFoundError: no such active tenant;
        ServiceUnavailableError: no LLM configured yet)."""
        params: dict[str, Any] = {"tenant_id": tenant_id, "limit": MAX_TOOLS_PER_AGENT}
        # A config saved between these statements is caught by its version bump: the next
        # turn sees the new version and reads it again (as the ORM reader did).
        with self._pool.connection() as conn:
            tenant = _cursor(conn).execute(_TENANT, params).fetchone()
            if tenant is None or not tenant["is_active"]:
                raise NotFoundError(f"tenant {tenant_id!r} does not exist")
            if not tenant["has_llm"]:
                raise ServiceUnavailableError("no LLM is configured for this tenant yet")
            agents = _cursor(conn).execute(_AGENTS, params).fetchall()
            params["agent_ids"] = [agent["id"] for agent in agents]
            tools = _cursor(conn).execute(_TOOLS, params).fetchall()
            sources = _cursor(conn).execute(_DATA_SOURCES, params).fetchall()
        data_sources = {row["name"]: bytes(row["encrypted_url"]) for row in sources}
        tenant_llm = _llm_spec(tenant, tenant)
        return TenantRuntimeConfig(
            tenant_id=tenant_id,
            tenant_name=tenant["name"],
            config_version=int(tenant["config_version"]),
            multi_intent_policy=tenant["multi_intent_policy"],
            memory_max_tokens=tenant["memory_max_tokens"],
            rate_limit_per_minute=tenant["rate_limit_per_minute"],
            llm=tenant_llm,
            agents=tuple(
                _agent_spec(
                    agent,
                    [tool for tool in tools if tool["agent_id"] == agent["id"]],
                    tenant,
                    data_sources,
                )
                for agent in agents
            ),
        )


def _cursor(conn: Connection[Any]) -> Any:
    return conn.cursor(row_factory=dict_row)


def _llm_spec(model: Mapping[str, Any], tenant: Mapping[str, Any]) -> LlmSpec:
    # The tenant's key, endpoint and extra settings only go with a model of the same provider.
    same_provider = model["provider"] == tenant["provider"]
    key = tenant["encrypted_api_key"] if same_provider else None
    return LlmSpec(
        provider=model["provider"],
        model_name=model["model_name"],
        encrypted_api_key=bytes(key).decode("ascii") if key else None,
        base_url=tenant["base_url"] if same_provider else None,
        temperature=float(tenant["temperature"]),
        max_tokens=tenant["max_tokens"],
        input_price_per_1k=model["input_price_per_1k"],
        output_price_per_1k=model["output_price_per_1k"],
        extra=dict(tenant["extra"] or {}) if same_provider else {},
    )


def _agent_spec(
    agent: Mapping[str, Any],
    tools: list[Mapping[str, Any]],
    tenant: Mapping[str, Any],
    data_sources: dict[str, bytes],
) -> AgentSpec:
    return AgentSpec(
        id=agent["id"],
        name=agent["name"],
        display_name=agent["display_name"],
        description=agent["description"],
        system_prompt=agent["system_prompt"],
        output_format=OutputFormatSpec(
            name=agent["format_name"],
            renderer_hint=agent["renderer_hint"],
            json_schema=dict(agent["format_schema"] or {}),
            description=agent["format_description"],
        ),
        # The agent's own model (a row of llm_models) with the tenant's settings.
        llm=_llm_spec(agent, tenant) if agent["provider"] is not None else None,
        tools=tuple(_tool_spec(tool, data_sources) for tool in tools),
    )


def _tool_spec(tool: Mapping[str, Any], data_sources: dict[str, bytes]) -> ToolSpec:
    config = dict(tool["config"] or {})
    # DB_QUERY: the tenant's own data source of the configured name (None: it has none).
    source = config.get("data_source") if tool["type"] == "DB_QUERY" else None
    url = data_sources.get(source) if isinstance(source, str) else None
    secret = tool["encrypted_secret"]
    return ToolSpec(
        id=tool["id"],
        name=tool["name"],
        description=tool["description"],
        type=tool["type"],
        input_schema=dict(tool["input_schema"]),
        config=config,
        encrypted_secret=bytes(secret).decode("ascii") if secret else None,
        encrypted_data_source_url=url.decode("ascii") if url else None,
    )
