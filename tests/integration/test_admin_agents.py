"""Admin agents through the admin Lambda handler: CRUD, tool assignment, versions, roles, audit."""

from __future__ import annotations

from typing import Any

from agenthub.db.models import AgentConfig, AgentTool, AuditLog, Tenant
from tests.integration.admin_support import (
    TENANT_ADMIN,
    Admin,
    ReloadQueue,
    audit_rows,
    count,
)

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]

NEW_AGENT = {
    "name": "invoice",
    "display_name": "Invoice",
    "description": "Invoices and payments by invoice number",
    "system_prompt": "You are the Invoice agent.",
    "output_format": "card",
}


def _agent(admin: Admin, name: str) -> dict[str, Any]:
    items = admin("GET", "/api/admin/agents").body["items"]
    return next(a for a in items if a["name"] == name)


def _tool_id(admin: Admin, name: str) -> str:
    items = admin("GET", "/api/admin/tools").body["items"]
    return str(next(t["id"] for t in items if t["name"] == name))


def _config_version(tenant_id: str) -> int:
    from agenthub.composition import get_sessionmaker

    with get_sessionmaker()() as db:
        tenant = db.get(Tenant, tenant_id)
        assert tenant is not None
        return tenant.config_version


def test_create_then_read_an_agent(reload_queue: ReloadQueue, admin: Admin) -> None:
    created = admin("POST", "/api/admin/agents", NEW_AGENT)

    assert created.status == 201, created.body
    assert created.body["name"] == "invoice"
    assert created.body["output_format"] == "card"
    assert created.body["version"] == 1
    assert created.body["tools"] == []
    assert created.body["reload"] == "queued"
    assert created.headers["etag"] == '"1"'
    fetched = admin("GET", f"/api/admin/agents/{created.body['id']}")
    assert fetched.status == 200
    assert fetched.body["system_prompt"] == "You are the Invoice agent."
    assert "invoice" in [a["name"] for a in admin("GET", "/api/admin/agents").body["items"]]
    # A new agent is enabled for no tenant yet: no tenant needs a reload.
    assert reload_queue.messages() == []


def test_creation_is_audited_with_the_new_state_and_request_id(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    created = admin("POST", "/api/admin/agents", NEW_AGENT, user="ops-1")

    [row] = audit_rows(AuditLog.action == "agent.create")
    assert (row.actor, row.actor_tenant_id, row.tenant_id) == ("ops-1", "acme", None)
    assert (row.entity_type, row.entity_id) == ("agent", created.body["id"])
    assert row.before is None
    assert row.after["name"] == "invoice" and row.after["version"] == 1
    assert row.request_id == created.headers["x-request-id"]


def test_patch_changes_the_agent_and_audits_before_and_after(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    debt = _agent(admin, "debt")

    result = admin(
        "PATCH",
        f"/api/admin/agents/{debt['id']}",
        {"system_prompt": "Always ask for the MST.", "version": debt["version"]},
    )

    assert result.status == 200, result.body
    assert result.body["system_prompt"] == "Always ask for the MST."
    assert result.body["version"] == debt["version"] + 1
    [row] = audit_rows(AuditLog.action == "agent.update")
    assert row.before["system_prompt"] == debt["system_prompt"]
    assert row.after["system_prompt"] == "Always ask for the MST."
    assert row.after["version"] == debt["version"] + 1


def test_patch_takes_the_version_from_if_match(reload_queue: ReloadQueue, admin: Admin) -> None:
    debt = _agent(admin, "debt")

    result = admin(
        "PATCH",
        f"/api/admin/agents/{debt['id']}",
        {"display_name": "Receivables"},
        headers={"If-Match": f'"{debt["version"]}"'},
    )

    assert result.status == 200, result.body
    assert result.body["display_name"] == "Receivables"


def test_a_stale_version_is_409_and_changes_nothing(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    debt = _agent(admin, "debt")
    admin("PATCH", f"/api/admin/agents/{debt['id']}", {"is_active": False, "version": 1})

    stale = admin(
        "PATCH", f"/api/admin/agents/{debt['id']}", {"display_name": "Late", "version": 1}
    )

    assert stale.status == 409, stale.body
    assert stale.body["error"]["code"] == "version_conflict"
    assert stale.body["error"]["request_id"]
    assert _agent(admin, "debt")["display_name"] == "Debt"
    assert len(audit_rows(AuditLog.action == "agent.update")) == 1


def test_a_patch_without_version_is_422_naming_version(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    debt = _agent(admin, "debt")

    result = admin("PATCH", f"/api/admin/agents/{debt['id']}", {"display_name": "X"})

    assert result.status == 422
    assert "version" in result.body["error"]["message"]
    assert [d["field"] for d in result.body["error"]["details"]] == ["version"]
    assert audit_rows() == []


def test_invalid_input_is_422_naming_the_field_and_writes_nothing(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    agents_before = count(AgentConfig)
    cases = {
        "name": {**NEW_AGENT, "name": "Not A Name"},
        "output_format": {**NEW_AGENT, "output_format": "hologram"},
        "llm_model_id": {**NEW_AGENT, "llm_model_id": "00000000-0000-4000-8000-000000000000"},
        "unexpected": {**NEW_AGENT, "unexpected": 1},
        "system_prompt": {**NEW_AGENT, "system_prompt": ""},
    }
    for field, body in cases.items():
        result = admin("POST", "/api/admin/agents", body)

        assert result.status == 422, (field, result.body)
        assert field in result.body["error"]["message"], field
    assert count(AgentConfig) == agents_before
    assert audit_rows() == []
    assert reload_queue.messages() == []


def test_a_null_for_a_required_field_is_422(reload_queue: ReloadQueue, admin: Admin) -> None:
    debt = _agent(admin, "debt")

    result = admin("PATCH", f"/api/admin/agents/{debt['id']}", {"description": None, "version": 1})

    assert result.status == 422
    assert result.body["error"]["details"][0]["field"] == "description"


def test_a_taken_name_is_409(reload_queue: ReloadQueue, admin: Admin) -> None:
    result = admin("POST", "/api/admin/agents", {**NEW_AGENT, "name": "debt"})

    assert result.status == 409
    assert result.body["error"]["code"] == "conflict"


def test_delete_is_soft_and_hides_the_agent(reload_queue: ReloadQueue, admin: Admin) -> None:
    shipment = _agent(admin, "shipment")

    deleted = admin("DELETE", f"/api/admin/agents/{shipment['id']}")

    assert deleted.status == 200, deleted.body
    assert deleted.body["deleted_at"] is not None
    assert admin("GET", f"/api/admin/agents/{shipment['id']}").status == 404
    listed = admin("GET", "/api/admin/agents", query={"include_deleted": "true"}).body["items"]
    assert shipment["id"] in [a["id"] for a in listed]
    assert count(AgentConfig, AgentConfig.id == shipment["id"]) == 1
    [row] = audit_rows(AuditLog.action == "agent.delete")
    assert row.before["deleted_at"] is None and row.after["deleted_at"] is not None
    # Both demo tenants have the agent enabled: both must reload.
    [message] = reload_queue.messages()
    assert message.tenant_ids == ("acme", "globex")


def test_delete_with_a_stale_if_match_is_409(reload_queue: ReloadQueue, admin: Admin) -> None:
    shipment = _agent(admin, "shipment")

    result = admin("DELETE", f"/api/admin/agents/{shipment['id']}", headers={"If-Match": '"99"'})

    assert result.status == 409
    assert admin("GET", f"/api/admin/agents/{shipment['id']}").status == 200


def test_assign_and_unassign_a_tool_with_priority(reload_queue: ReloadQueue, admin: Admin) -> None:
    debt = _agent(admin, "debt")
    track = _tool_id(admin, "track_shipment")

    assigned = admin("PUT", f"/api/admin/agents/{debt['id']}/tools/{track}", {"priority": 0})

    assert assigned.status == 200, assigned.body
    assert [t["name"] for t in assigned.body["tools"]] == [
        "track_shipment",
        "get_customer_debt_by_mst",
    ]
    assert assigned.body["tools"][0]["priority"] == 0
    removed = admin("DELETE", f"/api/admin/agents/{debt['id']}/tools/{track}")
    assert removed.status == 200
    assert [t["name"] for t in removed.body["tools"]] == ["get_customer_debt_by_mst"]
    assert [r.action for r in audit_rows()] == ["agent.tool.assign", "agent.tool.unassign"]
    assert audit_rows()[0].after["tools"][0]["name"] == "track_shipment"
    again = admin("DELETE", f"/api/admin/agents/{debt['id']}/tools/{track}")
    assert again.status == 404


def test_a_negative_priority_is_422_and_assigns_nothing(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    debt = _agent(admin, "debt")
    track = _tool_id(admin, "track_shipment")
    assignments = count(AgentTool)

    result = admin("PUT", f"/api/admin/agents/{debt['id']}/tools/{track}", {"priority": -1})

    assert result.status == 422
    assert "priority" in result.body["error"]["message"]
    assert count(AgentTool) == assignments


def test_a_change_moves_the_config_version_of_each_tenant_using_the_agent(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    debt = _agent(admin, "debt")
    before = {t: _config_version(t) for t in ("acme", "globex")}

    admin("PATCH", f"/api/admin/agents/{debt['id']}", {"display_name": "D", "version": 1})

    assert {t: _config_version(t) for t in ("acme", "globex")} == {
        t: v + 1 for t, v in before.items()
    }
    [message] = reload_queue.messages()
    assert message.tenant_ids == ("acme", "globex")
    assert message.reason == "agent changed"


def test_a_tenant_admin_reads_the_catalogue_but_cannot_write_it(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    debt = _agent(admin, "debt")
    track = _tool_id(admin, "track_shipment")

    assert admin("GET", "/api/admin/agents", roles=TENANT_ADMIN).status == 200
    assert admin("GET", f"/api/admin/agents/{debt['id']}", roles=TENANT_ADMIN).status == 200
    writes = [
        ("POST", "/api/admin/agents", NEW_AGENT),
        ("PATCH", f"/api/admin/agents/{debt['id']}", {"display_name": "X", "version": 1}),
        ("DELETE", f"/api/admin/agents/{debt['id']}", None),
        ("PUT", f"/api/admin/agents/{debt['id']}/tools/{track}", {"priority": 1}),
        ("DELETE", f"/api/admin/agents/{debt['id']}/tools/{track}", None),
    ]
    for method, path, body in writes:
        result = admin(method, path, body, roles=TENANT_ADMIN)

        assert result.status == 403, (method, path, result.body)
        assert result.body["error"]["code"] == "forbidden"
    assert _agent(admin, "debt")["version"] == debt["version"]
    assert audit_rows() == []


def test_a_user_without_an_admin_role_gets_403(reload_queue: ReloadQueue, admin: Admin) -> None:
    assert admin("GET", "/api/admin/agents", roles=()).status == 403


def test_the_openapi_document_is_served_with_examples(admin: Admin, app_env: None) -> None:
    result = admin("GET", "/api/admin/openapi.json")

    assert result.status == 200
    schemas = result.body["components"]["schemas"]
    for name in ("AgentCreate", "AgentUpdate", "ToolCreate", "TenantUpdate", "LlmConfigPut"):
        assert schemas[name]["examples"], name
    assert "/api/admin/tenants/{tenant_id}/permissions" in result.body["paths"]
    docs = admin("GET", "/api/admin/docs")
    assert docs.status == 200 and "swagger" in docs.body.lower()


def test_a_malformed_or_contradicting_version_is_422(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    debt = _agent(admin, "debt")
    path = f"/api/admin/agents/{debt['id']}"

    malformed = admin("PATCH", path, {"display_name": "X"}, headers={"If-Match": "*"})
    contradicting = admin(
        "PATCH", path, {"display_name": "X", "version": 2}, headers={"If-Match": '"1"'}
    )
    empty = admin("PATCH", path, {"version": 1})

    assert malformed.status == 422
    assert malformed.body["error"]["details"][0]["field"] == "header.if-match"
    assert contradicting.status == 422
    assert contradicting.body["error"]["details"][0]["field"] == "version"
    assert empty.status == 422
    assert "nothing to change" in empty.body["error"]["details"][0]["message"]
    assert _agent(admin, "debt")["version"] == 1
