"""`agenthub seed demo` run again creates what is missing and leaves an admin's changes alone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from agenthub.cli import main

API = "http://127.0.0.1:8001"


def seed() -> None:
    assert main(["seed", "demo", "--api-url", API]) == 0


def test_re_seeding_keeps_the_llm_config_provider_key_prompt_and_permissions_an_admin_set(
    app_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.db.models import LlmModel, Tenant
    from agenthub.repositories import (
        AgentConfigRepository,
        LlmModelRepository,
        PermissionRepository,
        TenantLlmConfigRepository,
        ToolConfigRepository,
    )

    seed()
    # GIVEN an admin's changes: another provider with its key, a new prompt, a tool's URL,
    # the Shipment agent switched off for acme, a model's price
    with transaction(get_sessionmaker()) as db:
        gpt = LlmModelRepository(db).get_by_name("openai", "gpt-4o-mini")
        assert gpt is not None
        TenantLlmConfigRepository(db).upsert(
            tenant_id="acme",
            llm_model_id=gpt.id,
            encrypted_api_key=get_keyring().encrypt("sk-admin-chose-this-key"),
            api_key_hint="sk-…-key",
            base_url=None,
            temperature=Decimal("0.3"),
            max_tokens=700,
            extra={},
        )
        agents = AgentConfigRepository(db)
        debt = agents.get_by_name("debt")
        shipment = agents.get_by_name("shipment")
        assert debt is not None and shipment is not None
        agents.update(
            agent_id=debt.id, expected_version=debt.version, changes={"system_prompt": "Mine."}
        )
        tools = ToolConfigRepository(db)
        tool = tools.get_by_name("track_shipment")
        assert tool is not None
        tools.update(
            tool_id=tool.id,
            expected_version=tool.version,
            changes={"config": {**tool.config, "url": "https://erp.acme.example/track/{code}"}},
        )
        PermissionRepository(db).set_agent(tenant_id="acme", agent_id=shipment.id, enabled=False)
        gpt.input_price_per_1k = Decimal("0.5")
    with get_sessionmaker()() as db:
        versions = {t.id: t.config_version for t in db.scalars(select(Tenant))}
    capsys.readouterr()

    # WHEN the seed runs again
    seed()

    # THEN every change is still there, and no tenant's config moved
    with get_sessionmaker()() as db:
        config = TenantLlmConfigRepository(db).get(tenant_id="acme")
        assert config is not None
        assert config.llm_model.model_name == "gpt-4o-mini"
        assert config.encrypted_api_key is not None
        assert get_keyring().decrypt(config.encrypted_api_key).get_secret_value() == (
            "sk-admin-chose-this-key"
        )
        assert config.max_tokens == 700
        agents = AgentConfigRepository(db)
        assert agents.get_by_name("debt").system_prompt == "Mine."  # type: ignore[union-attr]
        track = ToolConfigRepository(db).get_by_name("track_shipment")
        assert track is not None and track.config["url"].startswith("https://erp.acme.example")
        shipment_id = agents.get_by_name("shipment").id  # type: ignore[union-attr]
        switched = {
            p.agent_id: p.enabled
            for p in PermissionRepository(db).list_agent_permissions(tenant_id="acme")
        }
        assert switched[shipment_id] is False
        price = db.scalar(
            select(LlmModel.input_price_per_1k).where(LlmModel.model_name == "gpt-4o-mini")
        )
        assert price == Decimal("0.5")
        assert {t.id: t.config_version for t in db.scalars(select(Tenant))} == versions
    assert "reload not needed" in capsys.readouterr().out


def test_re_seeding_recreates_what_is_missing_but_not_what_an_admin_deleted(
    app_env: None,
) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.db.models import LlmModel, Tenant, TenantLlmConfig
    from agenthub.repositories import AgentConfigRepository

    seed()
    with transaction(get_sessionmaker()) as db:
        db.execute(TenantLlmConfig.__table__.delete().where(TenantLlmConfig.tenant_id == "globex"))
        db.execute(LlmModel.__table__.delete().where(LlmModel.model_name == "gemini-2.5-pro"))
        agents = AgentConfigRepository(db)
        shipment = agents.get_by_name("shipment")
        assert shipment is not None
        agents.soft_delete(agent_id=shipment.id, expected_version=shipment.version)

    seed()

    with get_sessionmaker()() as db:
        assert db.get(Tenant, "globex") is not None
        assert (
            db.scalar(select(TenantLlmConfig.id).where(TenantLlmConfig.tenant_id == "globex"))
            is not None
        )
        assert (
            db.scalar(select(LlmModel.id).where(LlmModel.model_name == "gemini-2.5-pro"))
            is not None
        )
        assert AgentConfigRepository(db).get_by_name("shipment") is None  # stays deleted
