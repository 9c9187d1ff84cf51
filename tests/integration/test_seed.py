"""`agenthub seed demo` loads the demo and can run again without duplicating anything."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from agenthub.cli import main
from tests.integration.admin_support import ReloadQueue

pytest_plugins = ["tests.integration.reload_queue_fixtures"]


def _counts() -> dict[str, int]:
    from agenthub.composition import get_sessionmaker
    from agenthub.db import models

    tables = {
        "tenants": models.Tenant,
        "agents": models.AgentConfig,
        "tools": models.ToolConfig,
        "agent_tools": models.AgentTool,
        "formats": models.OutputFormat,
        "llm_models": models.LlmModel,
        "llm_configs": models.TenantLlmConfig,
        "agent_permissions": models.TenantAgentPermission,
        "tool_permissions": models.TenantToolPermission,
    }
    with get_sessionmaker()() as db:
        return {
            name: int(db.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in tables.items()
        }


def test_the_demo_seed_is_idempotent(app_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "demo", "--api-url", "http://127.0.0.1:8001"]) == 0
    first = _counts()
    assert main(["seed", "demo", "--api-url", "http://127.0.0.1:8001"]) == 0

    assert _counts() == first
    # Debt and Shipment with their HTTP tools; Analysis with two DB_QUERY tools; OCR with one;
    # the knowledge seed's search_company_policies (RAG).
    assert first["tenants"] == 2 and first["agents"] == 4 and first["tools"] == 6
    assert first["formats"] == 7 and first["llm_configs"] == 2
    assert "LLM offline:offline" in capsys.readouterr().out


def test_the_seed_uses_a_configured_provider_key_encrypted(
    app_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.repositories import TenantLlmConfigRepository

    monkeypatch.setenv("OPENAI_API_KEY", "sk-demo-provider-key-123456")

    assert main(["seed", "demo"]) == 0

    with get_sessionmaker()() as db:
        config = TenantLlmConfigRepository(db).get(tenant_id="acme")
        assert config is not None
        assert config.llm_model.provider == "openai"
        assert config.encrypted_api_key is not None
        assert b"sk-demo" not in config.encrypted_api_key
        assert get_keyring().decrypt(config.encrypted_api_key).get_secret_value() == (
            "sk-demo-provider-key-123456"
        )
        assert config.api_key_hint is not None and "123456" not in config.api_key_hint


def test_the_seed_tells_running_containers_to_reload_the_demo_tenants(
    app_env: None, sqs_reload_queue: ReloadQueue, capsys: pytest.CaptureFixture[str]
) -> None:
    """Containers compare their cached config with the version in Redis, not in PostgreSQL."""
    assert main(["seed", "demo"]) == 0

    [message] = sqs_reload_queue.messages()
    assert message.tenant_ids == ("acme", "globex")
    assert "seed demo" in message.reason
    assert "reload queued" in capsys.readouterr().out


def test_the_seed_reports_a_reload_it_could_not_queue_as_pending(
    app_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no reload queue is configured
    assert main(["seed", "demo"]) == 0

    assert "reload pending: the reload queue is not configured" in capsys.readouterr().out
