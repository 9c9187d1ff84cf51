"""Admin tools through the admin Lambda handler: CRUD, save-time checks, versions, roles."""

from __future__ import annotations

from typing import Any

from agenthub.db.models import AuditLog, ToolConfig
from tests.integration.admin_support import (
    TENANT_ADMIN,
    Admin,
    ReloadQueue,
    all_audit_text,
    audit_rows,
    count,
)

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]

INVOICE_SCHEMA = {
    "type": "object",
    "properties": {"number": {"type": "string", "pattern": "^INV-[0-9]+$"}},
    "required": ["number"],
}
# Loopback is let through by the test settings' SSRF allow-list (as in the local demo).
NEW_TOOL = {
    "name": "get_invoice",
    "type": "HTTP_GET",
    "description": "Look up an invoice by number",
    "input_schema": INVOICE_SCHEMA,
    "config": {"url": "http://127.0.0.1:8001/erp/invoices/{number}", "auth_mode": "user_jwt"},
}


def _tool(admin: Admin, name: str) -> dict[str, Any]:
    items = admin("GET", "/api/admin/tools").body["items"]
    return next(t for t in items if t["name"] == name)


def test_create_then_read_a_tool(reload_queue: ReloadQueue, admin: Admin) -> None:
    created = admin("POST", "/api/admin/tools", NEW_TOOL)

    assert created.status == 201, created.body
    assert created.body["type"] == "HTTP_GET"
    assert created.body["input_schema"] == INVOICE_SCHEMA
    assert created.body["version"] == 1
    assert created.body["reload"] == "queued"
    fetched = admin("GET", f"/api/admin/tools/{created.body['id']}")
    assert fetched.status == 200
    assert fetched.body["config"]["url"].endswith("/invoices/{number}")
    assert fetched.headers["etag"] == '"1"'
    [row] = audit_rows(AuditLog.action == "tool.create")
    assert row.tenant_id is None
    assert row.after["name"] == "get_invoice"


def test_patch_revalidates_and_changes_the_tool(reload_queue: ReloadQueue, admin: Admin) -> None:
    track = _tool(admin, "track_shipment")
    config = {**track["config"], "url": "http://127.0.0.1:8001/v2/shipments/{tracking_id}"}

    result = admin(
        "PATCH", f"/api/admin/tools/{track['id']}", {"config": config, "version": track["version"]}
    )

    assert result.status == 200, result.body
    assert result.body["config"]["url"].startswith("http://127.0.0.1:8001/v2/")
    [row] = audit_rows(AuditLog.action == "tool.update")
    assert row.before["config"]["url"] == track["config"]["url"]
    assert row.after["config"]["url"] == config["url"]
    # Both demo tenants have the tool enabled.
    [message] = reload_queue.messages()
    assert message.tenant_ids == ("acme", "globex")


def test_a_stale_version_is_409(reload_queue: ReloadQueue, admin: Admin) -> None:
    track = _tool(admin, "track_shipment")
    first = admin(
        "PATCH", f"/api/admin/tools/{track['id']}", {"description": "Track it", "version": 1}
    )
    assert first.status == 200

    for body in ({"description": "Late", "version": 1}, {"config": track["config"], "version": 1}):
        stale = admin("PATCH", f"/api/admin/tools/{track['id']}", body)

        assert stale.status == 409, stale.body
        assert stale.body["error"]["code"] == "version_conflict"
    assert _tool(admin, "track_shipment")["description"] == "Track it"


def test_a_patch_without_version_is_422(reload_queue: ReloadQueue, admin: Admin) -> None:
    track = _tool(admin, "track_shipment")

    result = admin("PATCH", f"/api/admin/tools/{track['id']}", {"is_active": False})

    assert result.status == 422
    assert result.body["error"]["details"][0]["field"] == "version"


def test_refused_definitions_are_422_naming_the_field_and_write_nothing(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    tools_before = count(ToolConfig)
    metadata = {**NEW_TOOL["config"], "url": "http://169.254.169.254/latest/{number}"}
    cases: dict[str, dict[str, Any]] = {
        "config.url": {**NEW_TOOL, "config": metadata},
        "input_schema": {**NEW_TOOL, "input_schema": {"type": "object", "oneOf": []}},
        "input_schema.type": {**NEW_TOOL, "input_schema": {"type": "array"}},
        "config.auth_mode": {**NEW_TOOL, "config": {**NEW_TOOL["config"], "auth_mode": "magic"}},
        "config.body": {**NEW_TOOL, "config": {**NEW_TOOL["config"], "body": ["number"]}},
        "type": {**NEW_TOOL, "type": "SOAP"},
        "name": {**NEW_TOOL, "name": "1bad name"},
    }
    for field, body in cases.items():
        result = admin("POST", "/api/admin/tools", body)

        assert result.status == 422, (field, result.body)
        fields = [d["field"] for d in result.body["error"]["details"]]
        assert any(f.startswith(field) for f in fields), (field, fields)
    assert count(ToolConfig) == tools_before
    assert audit_rows() == []


def test_a_patch_that_breaks_the_tool_is_refused(reload_queue: ReloadQueue, admin: Admin) -> None:
    track = _tool(admin, "track_shipment")
    # The URL names {tracking_id}: a schema without that argument cannot serve it.
    schema = {"type": "object", "properties": {"other": {"type": "string"}}}

    result = admin(
        "PATCH", f"/api/admin/tools/{track['id']}", {"input_schema": schema, "version": 1}
    )

    assert result.status == 422, result.body
    assert _tool(admin, "track_shipment")["version"] == 1
    assert audit_rows() == []


def test_delete_is_soft(reload_queue: ReloadQueue, admin: Admin) -> None:
    track = _tool(admin, "track_shipment")

    deleted = admin("DELETE", f"/api/admin/tools/{track['id']}")

    assert deleted.status == 200
    assert deleted.body["deleted_at"] is not None
    assert admin("GET", f"/api/admin/tools/{track['id']}").status == 404
    assert count(ToolConfig, ToolConfig.id == track["id"]) == 1
    assert [r.action for r in audit_rows()] == ["tool.delete"]


def test_a_credential_in_a_static_header_is_refused_and_never_stored(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    """Tool configs are readable by every admin: credentials belong in a tenant secret."""
    config = {**NEW_TOOL["config"], "headers": {"X-Api-Key": "static-credential-123"}}

    created = admin("POST", "/api/admin/tools", {**NEW_TOOL, "config": config})

    assert created.status == 422, created.body
    assert "config.headers" in created.body["error"]["message"]
    assert "static-credential-123" not in str(created.body)
    assert count(ToolConfig, ToolConfig.name == NEW_TOOL["name"]) == 0
    assert "static-credential-123" not in all_audit_text()


def test_a_tenant_admin_reads_tools_but_cannot_write_them(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    track = _tool(admin, "track_shipment")

    assert admin("GET", "/api/admin/tools", roles=TENANT_ADMIN).status == 200
    assert admin("GET", f"/api/admin/tools/{track['id']}", roles=TENANT_ADMIN).status == 200
    for method, path, body in [
        ("POST", "/api/admin/tools", NEW_TOOL),
        ("PATCH", f"/api/admin/tools/{track['id']}", {"is_active": False, "version": 1}),
        ("DELETE", f"/api/admin/tools/{track['id']}", None),
    ]:
        result = admin(method, path, body, roles=TENANT_ADMIN)

        assert result.status == 403, (method, result.body)
    assert count(ToolConfig, ToolConfig.deleted_at.is_not(None)) == 0
    assert audit_rows() == []


def test_the_type_can_change_when_the_config_fits_the_new_type(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    track = _tool(admin, "track_shipment")

    result = admin(
        "PATCH",
        f"/api/admin/tools/{track['id']}",
        {"type": "HTTP_POST", "version": track["version"]},
    )

    assert result.status == 200, result.body
    assert result.body["type"] == "HTTP_POST"
    [row] = audit_rows(AuditLog.action == "tool.update")
    assert (row.before["type"], row.after["type"]) == ("HTTP_GET", "HTTP_POST")


RAG_TOOL = {
    "name": "search_handbook",
    "type": "RAG",
    "description": "Search the staff handbook",
    "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
    "config": {"knowledge_base": "handbook", "top_k": 3, "min_score": 0.2},
}


def test_a_rag_tool_is_saved_with_its_knowledge_base_name_and_bad_configs_are_422(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    created = admin("POST", "/api/admin/tools", RAG_TOOL)
    assert created.status == 201, created.body
    assert created.body["config"]["knowledge_base"] == "handbook"
    for config, field in [
        ({"knowledge_base": "handbook", "top_k": 50}, "config.top_k"),
        ({"knowledge_base": "handbook", "collection_id": "x"}, "config.collection_id"),
        ({"top_k": 3}, "config.knowledge_base"),
    ]:
        result = admin("POST", "/api/admin/tools", {**RAG_TOOL, "name": "other", "config": config})
        assert result.status == 422, result.body
        assert any(d["field"].startswith(field) for d in result.body["error"]["details"])
