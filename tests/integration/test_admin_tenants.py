"""Admin tenants through the admin Lambda handler: settings, LLM config, permissions, roles."""

from __future__ import annotations

import json
from typing import Any

from agenthub.db.models import AuditLog, Tenant, TenantAgentPermission, TenantLlmConfig
from tests.integration.admin_support import (
    TENANT_ADMIN,
    Admin,
    ReloadQueue,
    all_audit_text,
    audit_rows,
    count,
)

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]

API_KEY = "sk-live-0123456789abcdefSECRET"
OPENAI = {"provider": "openai", "model_name": "gpt-4o-mini"}


def _stored_llm_config(tenant_id: str) -> TenantLlmConfig:
    from sqlalchemy import select

    from agenthub.composition import get_sessionmaker

    with get_sessionmaker()() as db:
        statement = select(TenantLlmConfig).where(TenantLlmConfig.tenant_id == tenant_id)
        return db.scalars(statement).unique().one()


# --- tenants and settings ----------------------------------------------------------------------


def test_a_platform_admin_creates_a_tenant(reload_queue: ReloadQueue, admin: Admin) -> None:
    created = admin(
        "POST", "/api/admin/tenants", {"id": "initech", "name": "Initech", "retention_days": 30}
    )

    assert created.status == 201, created.body
    assert created.body["retention_days"] == 30
    assert created.body["multi_intent_policy"] == "reject"
    assert created.body["llm_config"] is None
    assert admin("GET", "/api/admin/tenants/initech").body["name"] == "Initech"
    [row] = audit_rows(AuditLog.action == "tenant.create")
    assert row.tenant_id == "initech" and row.after["retention_days"] == 30
    assert [m.tenant_ids for m in reload_queue.messages()] == [("initech",)]


def test_creating_an_existing_tenant_is_409(reload_queue: ReloadQueue, admin: Admin) -> None:
    result = admin("POST", "/api/admin/tenants", {"id": "acme", "name": "Again"})

    assert result.status == 409
    assert admin("GET", "/api/admin/tenants/acme").body["name"] == "ACME Trading JSC"


def test_a_tenant_admin_cannot_create_tenants(reload_queue: ReloadQueue, admin: Admin) -> None:
    result = admin("POST", "/api/admin/tenants", {"id": "initech", "name": "I"}, roles=TENANT_ADMIN)

    assert result.status == 403
    assert count(Tenant, Tenant.id == "initech") == 0


def test_a_tenant_admin_changes_their_own_settings(reload_queue: ReloadQueue, admin: Admin) -> None:
    acme = admin("GET", "/api/admin/tenants/acme", roles=TENANT_ADMIN)
    assert acme.status == 200
    config_version = acme.body["config_version"]

    result = admin(
        "PATCH",
        "/api/admin/tenants/acme",
        {
            "retention_days": 30,
            "multi_intent_policy": "parallel",
            "memory_max_tokens": 4000,
            "rate_limit_per_minute": 120,
            "name": "ACME",
        },
        roles=TENANT_ADMIN,
        headers={"If-Match": acme.headers["etag"]},
    )

    assert result.status == 200, result.body
    assert result.body["retention_days"] == 30
    assert result.body["multi_intent_policy"] == "parallel"
    assert result.body["memory_max_tokens"] == 4000
    assert result.body["version"] == acme.body["version"] + 1
    assert result.body["config_version"] == config_version + 1
    assert result.body["reload"] == "queued"
    [row] = audit_rows(AuditLog.action == "tenant.update")
    assert (row.before["retention_days"], row.after["retention_days"]) == (90, 30)
    assert row.before["multi_intent_policy"] == "reject"
    assert row.after["multi_intent_policy"] == "parallel"
    [message] = reload_queue.messages()
    assert message.tenant_ids == ("acme",)
    assert message.config_version == config_version + 1


def test_a_stale_settings_version_is_409(reload_queue: ReloadQueue, admin: Admin) -> None:
    admin("PATCH", "/api/admin/tenants/acme", {"retention_days": 10, "version": 1})

    stale = admin("PATCH", "/api/admin/tenants/acme", {"retention_days": 20, "version": 1})

    assert stale.status == 409
    assert stale.body["error"]["details"] == {"current_version": 2}
    assert admin("GET", "/api/admin/tenants/acme").body["retention_days"] == 10


def test_bad_settings_are_422_naming_the_field_and_change_nothing(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    cases = {
        "retention_days": {"retention_days": 0},
        "multi_intent_policy": {"multi_intent_policy": "random"},
        "memory_max_tokens": {"memory_max_tokens": 10},
        "rate_limit_per_minute": {"rate_limit_per_minute": "lots"},
        "config_version": {"config_version": 99},
        "version": {"name": "No version"},
    }
    for field, body in cases.items():
        with_version = body if field == "version" else {**body, "version": 1}

        result = admin("PATCH", "/api/admin/tenants/acme", with_version)

        assert result.status == 422, (field, result.body)
        assert field in [d["field"] for d in result.body["error"]["details"]], field
    acme = admin("GET", "/api/admin/tenants/acme").body
    assert (acme["version"], acme["retention_days"], acme["name"]) == (1, 90, "ACME Trading JSC")
    assert audit_rows() == []
    assert reload_queue.messages() == []


def test_a_tenant_admin_cannot_touch_another_tenant(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    requests: list[tuple[str, str, Any]] = [
        ("GET", "/api/admin/tenants/globex", None),
        ("PATCH", "/api/admin/tenants/globex", {"retention_days": 5, "version": 1}),
        ("PUT", "/api/admin/tenants/globex/llm-config", {**OPENAI, "api_key": API_KEY}),
        ("GET", "/api/admin/tenants/globex/permissions", None),
        (
            "PATCH",
            "/api/admin/tenants/globex/permissions",
            {"agents": {"debt": False}, "version": 1},
        ),
    ]
    for method, path, body in requests:
        result = admin(method, path, body, tenant="acme", roles=TENANT_ADMIN)

        assert result.status == 403, (method, path, result.body)
        assert result.body["error"]["code"] == "forbidden"
    globex = admin("GET", "/api/admin/tenants/globex").body
    assert globex["retention_days"] == 90
    assert globex["llm_config"]["llm_model"]["provider"] == "offline"
    assert audit_rows() == []


def test_a_tenant_admin_lists_only_their_own_tenant(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    mine = admin("GET", "/api/admin/tenants", roles=TENANT_ADMIN).body["items"]
    every = admin("GET", "/api/admin/tenants").body["items"]

    assert [t["id"] for t in mine] == ["acme"]
    assert [t["id"] for t in every] == ["acme", "globex"]


def test_only_a_platform_admin_deactivates_a_tenant(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    denied = admin(
        "PATCH", "/api/admin/tenants/acme", {"is_active": False, "version": 1}, roles=TENANT_ADMIN
    )
    allowed = admin("PATCH", "/api/admin/tenants/acme", {"is_active": False, "version": 1})

    assert denied.status == 403
    assert allowed.status == 200 and allowed.body["is_active"] is False


def test_an_unknown_tenant_is_404(reload_queue: ReloadQueue, admin: Admin) -> None:
    assert admin("GET", "/api/admin/tenants/nobody").status == 404
    result = admin("PATCH", "/api/admin/tenants/nobody", {"name": "N", "version": 1})
    assert result.status == 404


# --- LLM config ----------------------------------------------------------------------------------


def test_the_api_key_is_stored_encrypted_and_never_returned_or_audited(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    # GIVEN a tenant admin sets an OpenAI model with a key
    put = admin(
        "PUT",
        "/api/admin/tenants/acme/llm-config",
        {**OPENAI, "api_key": API_KEY, "temperature": 0.2, "max_tokens": 512},
        roles=TENANT_ADMIN,
    )
    # WHEN the config is read back in every way the API offers
    reads = [
        put,
        admin("GET", "/api/admin/tenants/acme"),
        admin("GET", "/api/admin/tenants"),
        admin("PUT", "/api/admin/tenants/acme/llm-config", {**OPENAI, "max_tokens": 600}),
    ]

    # THEN the key is stored encrypted (it decrypts back) and only its hint ever leaves
    assert put.status == 200, put.body
    assert put.body["has_api_key"] is True
    assert put.body["api_key_hint"] == "sk-…CRET"
    assert put.body["llm_model"]["model_name"] == "gpt-4o-mini"
    assert put.body["temperature"] == 0.2
    assert put.body["reload"] == "queued"
    stored = _stored_llm_config("acme")
    assert stored.encrypted_api_key is not None
    assert API_KEY.encode() not in stored.encrypted_api_key
    from agenthub.composition import get_keyring

    assert get_keyring().decrypt(stored.encrypted_api_key).get_secret_value() == API_KEY
    for result in reads:
        assert result.status == 200
        assert API_KEY not in json.dumps(result.body)
        assert "encrypted" not in json.dumps(result.body)
    # the second PUT left the key out: it is kept
    assert reads[3].body["has_api_key"] is True
    audit = all_audit_text()
    assert API_KEY not in audit
    assert stored.encrypted_api_key.decode() not in audit
    [first, second] = audit_rows(AuditLog.action == "tenant.llm_config.put")
    assert first.before["llm_model"]["provider"] == "offline"
    assert first.after["has_api_key"] is True
    assert second.after["max_tokens"] == 600


def test_a_null_api_key_removes_the_key(reload_queue: ReloadQueue, admin: Admin) -> None:
    admin("PUT", "/api/admin/tenants/acme/llm-config", {**OPENAI, "api_key": API_KEY})

    result = admin("PUT", "/api/admin/tenants/acme/llm-config", {**OPENAI, "api_key": None})

    assert result.body["has_api_key"] is False
    assert _stored_llm_config("acme").encrypted_api_key is None


def test_a_key_is_not_carried_over_to_another_provider(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    admin("PUT", "/api/admin/tenants/acme/llm-config", {**OPENAI, "api_key": API_KEY})

    result = admin(
        "PUT",
        "/api/admin/tenants/acme/llm-config",
        {"provider": "openrouter", "model_name": "openai/gpt-4o-mini"},
    )

    assert result.status == 200
    assert result.body["has_api_key"] is False


def test_a_new_endpoint_without_a_new_key_drops_the_stored_key(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    """Else a tenant admin could point the stored key at a server they run."""
    admin("PUT", "/api/admin/tenants/acme/llm-config", {**OPENAI, "api_key": API_KEY})

    moved = admin(
        "PUT",
        "/api/admin/tenants/acme/llm-config",
        {**OPENAI, "base_url": "https://127.0.0.1/v1"},
        roles=TENANT_ADMIN,
    )

    assert moved.status == 200, moved.body
    assert moved.body["has_api_key"] is False
    assert _stored_llm_config("acme").encrypted_api_key is None


def test_the_model_can_be_chosen_by_id(reload_queue: ReloadQueue, admin: Admin) -> None:
    models = admin("GET", "/api/admin/llm-models", roles=TENANT_ADMIN).body["items"]
    gpt41 = next(m for m in models if m["model_name"] == "gpt-4.1-mini")

    result = admin(
        "PUT",
        "/api/admin/tenants/acme/llm-config",
        {"llm_model_id": gpt41["id"]},
        roles=TENANT_ADMIN,
    )

    assert result.status == 200, result.body
    assert result.body["llm_model"]["id"] == gpt41["id"]
    assert gpt41["input_price_per_1k"] == 0.0004


def test_a_stale_llm_config_version_is_409(reload_queue: ReloadQueue, admin: Admin) -> None:
    current = admin("GET", "/api/admin/tenants/acme").body["llm_config"]["version"]
    admin("PUT", "/api/admin/tenants/acme/llm-config", {**OPENAI, "version": current})

    stale = admin("PUT", "/api/admin/tenants/acme/llm-config", {**OPENAI, "version": current})

    assert stale.status == 409
    assert len(audit_rows(AuditLog.action == "tenant.llm_config.put")) == 1


def test_bad_llm_configs_are_422_naming_the_field_and_change_nothing(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    cases: dict[str, dict[str, Any]] = {
        "base_url": {**OPENAI, "base_url": "http://169.254.169.254/v1"},
        "model_name": {"provider": "openai", "model_name": "gpt-99"},
        "temperature": {**OPENAI, "temperature": 5},
        "max_tokens": {**OPENAI, "max_tokens": 0},
        "api_key": {**OPENAI, "api_key": ""},
    }
    for field, body in cases.items():
        result = admin("PUT", "/api/admin/tenants/acme/llm-config", body)

        assert result.status == 422, (field, result.body)
        assert field in json.dumps(result.body["error"]), field
    missing_model = admin("PUT", "/api/admin/tenants/acme/llm-config", {"max_tokens": 10})
    assert missing_model.status == 422
    assert "llm_model_id" in missing_model.body["error"]["message"]
    assert _stored_llm_config("acme").llm_model.provider == "offline"
    assert audit_rows() == []


def test_a_public_base_url_is_accepted(reload_queue: ReloadQueue, admin: Admin) -> None:
    result = admin(
        "PUT", "/api/admin/tenants/acme/llm-config", {**OPENAI, "base_url": "https://8.8.8.8/v1"}
    )

    assert result.status == 200, result.body
    assert result.body["base_url"] == "https://8.8.8.8/v1"


# --- permissions ---------------------------------------------------------------------------------


def test_permissions_list_every_agent_and_tool_with_its_state(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    result = admin("GET", "/api/admin/tenants/acme/permissions", roles=TENANT_ADMIN)

    assert result.status == 200
    assert {a["name"]: a["enabled"] for a in result.body["agents"]} == {
        "debt": True,
        "shipment": True,
        "analysis": True,
        "ocr": True,
    }
    assert {t["name"] for t in result.body["tools"]} == {
        "get_customer_debt_by_mst",
        "track_shipment",
        "sales_by_month",
        "top_customers_by_debt",
        "read_document",
        "search_company_policies",
    }
    assert result.headers["etag"] == f'"{result.body["version"]}"'


def test_a_tenant_admin_switches_agents_and_tools_by_name_or_id(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    current = admin("GET", "/api/admin/tenants/acme/permissions", roles=TENANT_ADMIN).body
    track_id = next(t["id"] for t in current["tools"] if t["name"] == "track_shipment")

    result = admin(
        "PATCH",
        "/api/admin/tenants/acme/permissions",
        {"agents": {"shipment": False}, "tools": {track_id: False}, "version": current["version"]},
        roles=TENANT_ADMIN,
    )

    assert result.status == 200, result.body
    assert {a["name"]: a["enabled"] for a in result.body["agents"]} == {
        "debt": True,
        "shipment": False,
        "analysis": True,
        "ocr": True,
    }
    assert {t["name"]: t["enabled"] for t in result.body["tools"]}["track_shipment"] is False
    assert result.body["version"] == current["version"] + 1
    assert result.body["reload"] == "queued"
    [row] = audit_rows(AuditLog.action == "tenant.permissions.update")
    assert row.before["agents"] == {"shipment": True}
    assert row.after["agents"] == {"shipment": False}
    assert row.after["tools"] == {"track_shipment": False}
    [message] = reload_queue.messages()
    assert message.tenant_ids == ("acme",)
    # globex is untouched
    globex = admin("GET", "/api/admin/tenants/globex/permissions").body
    assert all(a["enabled"] for a in globex["agents"])


def test_permissions_need_the_current_version(reload_queue: ReloadQueue, admin: Admin) -> None:
    admin("PATCH", "/api/admin/tenants/acme/permissions", {"agents": {"debt": False}, "version": 1})

    stale = admin(
        "PATCH", "/api/admin/tenants/acme/permissions", {"agents": {"debt": True}, "version": 1}
    )
    missing = admin("PATCH", "/api/admin/tenants/acme/permissions", {"agents": {"debt": True}})

    assert stale.status == 409
    assert missing.status == 422 and "version" in missing.body["error"]["message"]
    enabled = count(
        TenantAgentPermission,
        TenantAgentPermission.tenant_id == "acme",
        TenantAgentPermission.enabled.is_(True),
    )
    assert enabled == 3  # analysis, shipment and ocr: debt stayed off


def test_an_unknown_agent_name_is_422_and_nothing_changes(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    result = admin(
        "PATCH",
        "/api/admin/tenants/acme/permissions",
        {"agents": {"debt": False, "astrology": True}, "version": 1},
    )

    assert result.status == 422
    assert result.body["error"]["details"][0]["field"] == "agents.astrology"
    permissions = admin("GET", "/api/admin/tenants/acme/permissions").body
    assert all(a["enabled"] for a in permissions["agents"])
    assert permissions["version"] == 1
    assert audit_rows() == []
