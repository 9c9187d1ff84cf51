"""Admin paths address agents and tools by UUID or by name, everywhere (as permissions and
secrets already do)."""

from __future__ import annotations

from tests.integration.admin_support import Admin, ReloadQueue, audit_rows

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]

INVENTORY = {
    "name": "inventory",
    "display_name": "Inventory",
    "description": "Stock levels by SKU",
    "system_prompt": "You are the Inventory agent.",
    "output_format": "card",
}
STOCK_TOOL = {
    "name": "get_stock_by_sku",
    "type": "HTTP_GET",
    "description": "Stock of a product by SKU",
    "input_schema": {
        "type": "object",
        "properties": {"sku": {"type": "string", "pattern": "^[A-Z0-9-]{3,20}$"}},
        "required": ["sku"],
    },
    "config": {"url": "http://127.0.0.1:8001/erp/stock/{sku}", "auth_mode": "user_jwt"},
}


def test_a_tool_is_assigned_to_an_agent_by_their_names(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    assert admin("POST", "/api/admin/agents", INVENTORY).status == 201
    assert admin("POST", "/api/admin/tools", STOCK_TOOL).status == 201

    assigned = admin("PUT", "/api/admin/agents/inventory/tools/get_stock_by_sku", {"priority": 1})

    assert assigned.status == 200, assigned.body
    assert [t["name"] for t in assigned.body["tools"]] == ["get_stock_by_sku"]
    removed = admin("DELETE", "/api/admin/agents/inventory/tools/get_stock_by_sku")
    assert removed.status == 200, removed.body
    assert removed.body["tools"] == []


def test_an_agent_is_read_changed_and_deleted_by_name(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    read = admin("GET", "/api/admin/agents/debt")
    assert read.status == 200, read.body
    by_id = admin("GET", f"/api/admin/agents/{read.body['id']}")
    assert by_id.body == read.body

    changed = admin(
        "PATCH",
        "/api/admin/agents/debt",
        {"display_name": "Debts", "version": read.body["version"]},
    )
    assert changed.status == 200, changed.body
    assert changed.body["display_name"] == "Debts"
    assert audit_rows()[-1].entity_id == read.body["id"]  # audited under its id, as before

    deleted = admin(
        "DELETE", "/api/admin/agents/debt", headers={"If-Match": f'"{changed.body["version"]}"'}
    )
    assert deleted.status == 200, deleted.body
    assert admin("GET", "/api/admin/agents/debt").status == 404


def test_a_tool_is_read_changed_and_deleted_by_name(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    read = admin("GET", "/api/admin/tools/track_shipment")
    assert read.status == 200, read.body

    changed = admin(
        "PATCH",
        "/api/admin/tools/track_shipment",
        {"description": "Where a shipment is", "version": read.body["version"]},
    )
    assert changed.status == 200, changed.body
    deleted = admin(
        "DELETE",
        "/api/admin/tools/track_shipment",
        headers={"If-Match": f'"{changed.body["version"]}"'},
    )
    assert deleted.status == 200, deleted.body
    assert admin("GET", "/api/admin/tools/track_shipment").status == 404


def test_an_unknown_name_is_a_404_naming_it(reload_queue: ReloadQueue, admin: Admin) -> None:
    for path in (
        "/api/admin/agents/nobody",
        "/api/admin/tools/nothing",
        "/api/admin/agents/debt/tools/nothing",
    ):
        method = "PUT" if path.startswith("/api/admin/agents/debt/tools/") else "GET"
        result = admin(method, path, {"priority": 1} if method == "PUT" else None)
        assert result.status == 404, (path, result.body)
        assert path.rsplit("/", 1)[-1] in result.body["error"]["message"]
