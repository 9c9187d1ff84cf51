"""A tenant's runtime config read in plain SQL (agenthub.db.tenant_config) from what the admin
repositories wrote, on real PostgreSQL: only what the tenant may use, in order, its secrets
still encrypted, and nothing of another tenant's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from psycopg_pool import ConnectionPool
from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.engine import transaction
from agenthub.db.models import ToolType
from agenthub.db.pool import PoolConnection
from agenthub.db.tenant_config import MAX_TOOLS_PER_AGENT, TenantConfigReader
from agenthub.domain import TenantRuntimeConfig
from agenthub.errors import NotFoundError, ServiceUnavailableError
from agenthub.repositories import (
    AgentConfigRepository,
    BaseToolRepository,
    DataSourceRepository,
    LlmModelRepository,
    PermissionRepository,
    TenantLlmConfigRepository,
    TenantRepository,
    ToolConfigRepository,
)
from tests.integration.repo_builders import (
    TENANT_A,
    TENANT_B,
    make_agent,
    make_catalogue,
    make_tenants,
    make_tool,
)

pytest_plugins = ["tests.integration.repo_fixtures"]


@pytest.fixture
def reader(pool: ConnectionPool[PoolConnection]) -> TenantConfigReader:
    return TenantConfigReader(pool)


@pytest.fixture
def configured(repo_factory: sessionmaker[Session]) -> None:
    """Tenant A: an OpenAI-compatible model with its key, endpoint and settings; agents alpha
    (ten tools, some not usable), beta (its own Anthropic model), gamma (disabled for A),
    delta (inactive), epsilon (deleted), zeta (never granted). Tenant B: alpha only, with
    another tool."""
    with transaction(repo_factory) as db:
        make_tenants(db, TENANT_A, TENANT_B)
        catalogue = make_catalogue(db)
        models = LlmModelRepository(db)
        compatible = models.create(
            provider="openai_compatible",
            model_name="m-1",
            display_name="M1",
            input_price_per_1k=Decimal("0.001"),
            output_price_per_1k=Decimal("0.002"),
        )
        other = models.create(
            provider="anthropic",
            model_name="claude-x",
            display_name="Claude",
            input_price_per_1k=Decimal("0.003"),
            output_price_per_1k=Decimal("0.015"),
        )
        llm = TenantLlmConfigRepository(db)
        for tenant in (TENANT_A, TENANT_B):
            llm.upsert(
                tenant_id=tenant,
                llm_model_id=compatible.id,
                encrypted_api_key=f"key-of-{tenant}".encode(),
                base_url="https://llm.example.test/v1",
                temperature=Decimal("0.25"),
                max_tokens=512,
                extra={"structured_output": "tool"},
            )
        agents = AgentConfigRepository(db)
        alpha = make_agent(db, catalogue, "alpha")
        beta = agents.create(
            name="beta",
            display_name="Beta",
            description="the beta agent",
            system_prompt="You are beta.",
            output_format_id=catalogue.output_format.id,
            llm_model_id=other.id,
        )
        gamma = make_agent(db, catalogue, "gamma")
        delta = make_agent(db, catalogue, "delta", is_active=False)
        epsilon = make_agent(db, catalogue, "epsilon")
        make_agent(db, catalogue, "zeta")
        permissions = PermissionRepository(db)
        for agent in (alpha, beta, gamma, delta, epsilon):
            permissions.set_agent(tenant_id=TENANT_A, agent_id=agent.id, enabled=True)
        permissions.set_agent(tenant_id=TENANT_A, agent_id=gamma.id, enabled=False)
        permissions.set_agent(tenant_id=TENANT_B, agent_id=alpha.id, enabled=True)
        # alpha's tools by priority: t1 (10), t2 (20), t3 and t3b (30, by name), ...
        tools = ToolConfigRepository(db)
        ranked = {
            "t1": 10,
            "t2": 20,
            "t3b": 30,
            "t3a": 30,
            "t_disabled": 5,
            "t_inactive": 6,
            "t_deleted": 7,
            "t4": 40,
            "t5": 50,
            "t6": 60,
        }
        made = {
            name: make_tool(db, catalogue, name, is_active=name != "t_inactive") for name in ranked
        }
        for name, priority in ranked.items():
            agents.assign_tool(agent_id=alpha.id, tool_id=made[name].id, priority=priority)
            if name != "t_inactive":
                permissions.set_tool(
                    tenant_id=TENANT_A,
                    tool_id=made[name].id,
                    enabled=name != "t_disabled",
                    encrypted_secret=b"secret-of-t2" if name == "t2" else None,
                )
        tools.soft_delete(tool_id=made["t_deleted"].id)
        permissions.set_tool(tenant_id=TENANT_B, tool_id=made["t6"].id, enabled=True)
        # A DB_QUERY tool of beta, on tenant A's data source "sales".
        db_query = BaseToolRepository(db).upsert(type=ToolType.DB_QUERY, description="SQL")
        query = tools.create(
            name="sales_query",
            base_tool_id=db_query.id,
            description="sales",
            input_schema={"type": "object", "properties": {}},
            config={"data_source": "sales", "sql": "SELECT 1"},
        )
        agents.assign_tool(agent_id=beta.id, tool_id=query.id, priority=1)
        permissions.set_tool(tenant_id=TENANT_A, tool_id=query.id, enabled=True)
        DataSourceRepository(db).put(
            tenant_id=TENANT_A,
            name="sales",
            encrypted_url=b"encrypted-sales-url",
            url_hint="postgresql://u:***@db/sales",
            description="",
        )
        agents.soft_delete(agent_id=epsilon.id)


def test_only_the_tenants_usable_agents_are_in_its_config_by_name(
    configured: None, reader: TenantConfigReader
) -> None:
    config = reader.load(TENANT_A)

    assert [agent.name for agent in config.agents] == ["alpha", "beta"]
    assert config.agent("alpha") is not None and config.agent("alpha").output_format.name == "text"  # type: ignore[union-attr]


def test_an_agents_tools_are_its_usable_top_five_by_priority_then_name(
    configured: None, reader: TenantConfigReader
) -> None:
    alpha = reader.load(TENANT_A).agent("alpha")

    assert alpha is not None
    assert [tool.name for tool in alpha.tools] == ["t1", "t2", "t3a", "t3b", "t4"]
    assert len(alpha.tools) == MAX_TOOLS_PER_AGENT
    secrets = {tool.name: tool.encrypted_secret for tool in alpha.tools}
    assert secrets == {"t1": None, "t2": "secret-of-t2", "t3a": None, "t3b": None, "t4": None}
    assert alpha.tools[0].type == "HTTP_GET"
    assert alpha.tools[0].config == {"url": "https://api.example.test/t1"}


def test_the_tenants_model_settings_go_with_its_own_provider_only(
    configured: None, reader: TenantConfigReader
) -> None:
    config = reader.load(TENANT_A)
    beta = config.agent("beta")

    assert config.llm.provider == "openai_compatible" and config.llm.model_name == "m-1"
    assert config.llm.encrypted_api_key == "key-of-tenant-a"
    assert config.llm.base_url == "https://llm.example.test/v1"
    assert (config.llm.temperature, config.llm.max_tokens) == (0.25, 512)
    assert config.llm.extra == {"structured_output": "tool"}
    assert (config.llm.input_price_per_1k, config.llm.output_price_per_1k) == (
        Decimal("0.001"),
        Decimal("0.002"),
    )
    # An agent on another provider's model: the tenant's settings, never its key or endpoint.
    assert beta is not None and beta.llm is not None
    assert (beta.llm.provider, beta.llm.model_name) == ("anthropic", "claude-x")
    assert beta.llm.encrypted_api_key is None and beta.llm.base_url is None
    assert beta.llm.extra == {}
    assert (beta.llm.temperature, beta.llm.max_tokens) == (0.25, 512)


def test_a_query_tool_carries_the_tenants_data_source_still_encrypted(
    configured: None, reader: TenantConfigReader
) -> None:
    beta = reader.load(TENANT_A).agent("beta")

    assert beta is not None
    [query] = beta.tools
    assert query.type == "DB_QUERY"
    assert query.encrypted_data_source_url == "encrypted-sales-url"


def test_another_tenant_sees_only_what_it_was_given(
    configured: None, reader: TenantConfigReader
) -> None:
    config = reader.load(TENANT_B)

    assert [agent.name for agent in config.agents] == ["alpha"]
    assert [tool.name for tool in config.agents[0].tools] == ["t6"]
    assert config.llm.encrypted_api_key == "key-of-tenant-b"


def test_the_version_is_the_tenants_current_one(
    configured: None, reader: TenantConfigReader, repo_factory: sessionmaker[Session]
) -> None:
    with transaction(repo_factory) as db:
        bumped = TenantRepository(db).bump_config_version(tenant_id=TENANT_A)

    assert reader.version(TENANT_A) == bumped == reader.load(TENANT_A).config_version
    assert reader.version("nobody") is None


def test_an_unknown_or_inactive_tenant_is_not_found_and_one_without_an_llm_is_unavailable(
    reader: TenantConfigReader, repo_factory: sessionmaker[Session]
) -> None:
    with transaction(repo_factory) as db:
        make_tenants(db, TENANT_A, TENANT_B)
        tenants = TenantRepository(db)
        tenants.update_settings(
            tenant_id=TENANT_B,
            expected_version=tenants.require(TENANT_B).version,
            changes={"is_active": False},
        )

    with pytest.raises(NotFoundError):
        reader.load("nobody")
    with pytest.raises(NotFoundError):
        reader.load(TENANT_B)
    with pytest.raises(ServiceUnavailableError, match="no LLM is configured"):
        reader.load(TENANT_A)


def test_the_config_round_trips_through_the_cache_format(
    configured: None, reader: TenantConfigReader
) -> None:
    config = reader.load(TENANT_A)

    assert TenantRuntimeConfig.model_validate_json(config.model_dump_json()) == config
