"""A tenant's secret for a `tenant_secret` tool, through the admin Lambda handler.

`PUT /api/admin/tenants/{tenant_id}/tools/{tool}/secret` stores it Fernet-encrypted on the
tenant's permission row; `DELETE` removes it. Only whether one is set and its masked hint ever
leave: not in responses, audit rows or logs.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from agenthub.db.models import AuditLog, TenantToolPermission
from tests.integration.admin_support import (
    TENANT_ADMIN,
    Admin,
    ReloadQueue,
    all_audit_text,
    audit_rows,
)
from tests.support.tool_deps import close_guarded_clients, tool_deps

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]

SECRET = "erp-partner-key-0123456789-FIRST"
OTHER_SECRET = "erp-partner-key-9876543210-SECOND"
TRACK = "track_shipment"  # a demo tool, enabled for acme and globex by the seed


class _Recorder(logging.Handler):
    """Every record as text: its message and every attribute (extra keys included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__!r}")


@pytest.fixture
def log_lines(app_env: None) -> Iterator[list[str]]:
    """What our logger and the root logger receive during the test, down to DEBUG."""
    from agenthub.observability import get_logger, service_name

    get_logger()  # configure it first, as the handlers do
    ours, root = logging.getLogger(service_name()), logging.getLogger()
    recorder, level = _Recorder(), ours.level
    ours.addHandler(recorder)
    root.addHandler(recorder)
    ours.setLevel(logging.DEBUG)
    yield recorder.lines
    ours.setLevel(level)
    ours.removeHandler(recorder)
    root.removeHandler(recorder)


def _secret_path(tenant: str, tool: str) -> str:
    return f"/api/admin/tenants/{tenant}/tools/{tool}/secret"


def _permission(tenant_id: str, tool_id: str) -> TenantToolPermission | None:
    from agenthub.composition import get_sessionmaker

    with get_sessionmaker()() as db:
        return db.get(TenantToolPermission, (tenant_id, uuid.UUID(tool_id)))


def _tool_id(admin: Admin, name: str) -> str:
    items = admin("GET", "/api/admin/tools").body["items"]
    return str(next(t["id"] for t in items if t["name"] == name))


def _decrypted(token: bytes | None) -> str:
    from agenthub.composition import get_keyring

    assert token is not None
    return str(get_keyring().decrypt(token).get_secret_value())


def _stored_secret(tenant_id: str, tool_id: str) -> str | None:
    """The tenant's stored secret for the tool, decrypted (its permission row must exist)."""
    permission = _permission(tenant_id, tool_id)
    assert permission is not None
    token = permission.encrypted_secret
    return None if token is None else _decrypted(token)


def _tools_permission(admin: Admin, tenant: str, name: str) -> dict[str, Any]:
    tools = admin("GET", f"/api/admin/tenants/{tenant}/permissions").body["tools"]
    return dict(next(t for t in tools if t["name"] == name))


# --- set, replace, delete ----------------------------------------------------------------------


def test_a_tenant_admin_sets_a_secret_stored_encrypted_and_never_shown(
    reload_queue: ReloadQueue, admin: Admin, log_lines: list[str]
) -> None:
    track_id = _tool_id(admin, TRACK)
    config_version = admin("GET", "/api/admin/tenants/acme").body["config_version"]

    # WHEN acme's admin sets a secret for the tool, by name
    put = admin("PUT", _secret_path("acme", TRACK), {"secret": SECRET}, roles=TENANT_ADMIN)

    # THEN only whether it is set and its hint come back
    assert put.status == 200, put.body
    assert put.body == {
        "tenant_id": "acme",
        "tool_id": track_id,
        "tool_name": TRACK,
        "enabled": True,
        "has_secret": True,
        "secret_hint": "erp-…IRST",
        "reload": "queued",
    }
    # AND it is stored encrypted on acme's permission row, which stays enabled
    stored = _permission("acme", track_id)
    assert stored is not None and stored.enabled is True
    assert stored.encrypted_secret is not None
    assert SECRET.encode() not in stored.encrypted_secret
    assert _decrypted(stored.encrypted_secret) == SECRET
    # AND the permissions show it as set, with the hint
    permission = _tools_permission(admin, "acme", TRACK)
    assert (permission["has_secret"], permission["secret_hint"]) == (True, "erp-…IRST")
    assert _tools_permission(admin, "globex", TRACK)["has_secret"] is False
    # AND the change is audited without the secret or its ciphertext
    [row] = audit_rows(AuditLog.action == "tenant.tool_secret.put")
    assert (row.tenant_id, row.actor, row.entity_type) == ("acme", "root", "tenant_tool_secret")
    assert row.entity_id == track_id
    assert row.before == {
        "tool_id": track_id,
        "tool_name": TRACK,
        "enabled": True,
        "has_secret": False,
        "secret_hint": None,
    }
    assert row.after == {**row.before, "has_secret": True, "secret_hint": "erp-…IRST"}
    audit = all_audit_text()
    assert SECRET not in audit and stored.encrypted_secret.decode() not in audit
    # AND acme's config version moved in that transaction, and acme is told to reload
    assert admin("GET", "/api/admin/tenants/acme").body["config_version"] == config_version + 1
    [message] = reload_queue.messages()
    assert message.tenant_ids == ("acme",)
    assert message.config_version == config_version + 1
    # AND no log line carries it
    logged = "\n".join(log_lines)
    assert SECRET not in logged and stored.encrypted_secret.decode() not in logged


def test_a_second_put_replaces_the_secret(reload_queue: ReloadQueue, admin: Admin) -> None:
    track_id = _tool_id(admin, TRACK)
    admin("PUT", _secret_path("acme", TRACK), {"secret": SECRET})

    # WHEN the secret is replaced, the tool named by its id
    replaced = admin("PUT", _secret_path("acme", track_id), {"secret": OTHER_SECRET})

    assert replaced.status == 200, replaced.body
    assert (replaced.body["has_secret"], replaced.body["secret_hint"]) == (True, "erp-…COND")
    assert _stored_secret("acme", track_id) == OTHER_SECRET
    [_, second] = audit_rows(AuditLog.action == "tenant.tool_secret.put")
    assert (second.before["secret_hint"], second.after["secret_hint"]) == ("erp-…IRST", "erp-…COND")
    assert OTHER_SECRET not in json.dumps(replaced.body)
    assert SECRET not in all_audit_text() and OTHER_SECRET not in all_audit_text()


def test_delete_removes_the_secret_and_keeps_the_permission(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    track_id = _tool_id(admin, TRACK)
    admin("PUT", _secret_path("acme", TRACK), {"secret": SECRET})
    reload_queue.messages()

    deleted = admin("DELETE", _secret_path("acme", TRACK), roles=TENANT_ADMIN)

    assert deleted.status == 200, deleted.body
    assert deleted.body["has_secret"] is False
    assert deleted.body["secret_hint"] is None
    assert deleted.body["enabled"] is True
    stored = _permission("acme", track_id)
    assert stored is not None and stored.encrypted_secret is None and stored.enabled is True
    [row] = audit_rows(AuditLog.action == "tenant.tool_secret.delete")
    assert (row.before["has_secret"], row.before["secret_hint"]) == (True, "erp-…IRST")
    assert (row.after["has_secret"], row.after["secret_hint"]) == (False, None)
    assert [m.tenant_ids for m in reload_queue.messages()] == [("acme",)]
    assert _tools_permission(admin, "acme", TRACK)["has_secret"] is False
    # Nothing left to delete: 404, and nothing more is audited
    again = admin("DELETE", _secret_path("acme", TRACK), roles=TENANT_ADMIN)
    assert again.status == 404
    assert len(audit_rows(AuditLog.action == "tenant.tool_secret.delete")) == 1


def test_a_secret_alone_never_grants_the_tool(reload_queue: ReloadQueue, admin: Admin) -> None:
    # GIVEN a tool acme has no permission row for
    created = admin("POST", "/api/admin/tools", _partner_tool("http://127.0.0.1:9"))
    assert created.status == 201, created.body
    tool_id = created.body["id"]

    result = admin("PUT", _secret_path("acme", "get_partner_invoice"), {"secret": SECRET})

    assert result.status == 200, result.body
    assert (result.body["enabled"], result.body["has_secret"]) == (False, True)
    stored = _permission("acme", tool_id)
    assert stored is not None and stored.enabled is False
    permission = _tools_permission(admin, "acme", "get_partner_invoice")
    assert (permission["enabled"], permission["has_secret"]) == (False, True)


def test_a_secret_the_keys_cannot_decrypt_shows_no_hint_and_can_be_removed(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    """E.g. its key was rotated out before the secret was re-encrypted."""
    from cryptography.fernet import Fernet

    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import PermissionRepository

    track_id = _tool_id(admin, TRACK)
    foreign = Fernet(Fernet.generate_key()).encrypt(SECRET.encode())
    with transaction(get_sessionmaker()) as db:
        PermissionRepository(db).set_tool(
            tenant_id="acme", tool_id=uuid.UUID(track_id), enabled=True, encrypted_secret=foreign
        )

    shown = _tools_permission(admin, "acme", TRACK)
    deleted = admin("DELETE", _secret_path("acme", TRACK))

    assert (shown["has_secret"], shown["secret_hint"]) == (True, None)
    assert deleted.status == 200, deleted.body
    assert _stored_secret("acme", track_id) is None


def test_a_platform_admin_sets_any_tenants_secret(reload_queue: ReloadQueue, admin: Admin) -> None:
    result = admin("PUT", _secret_path("globex", TRACK), {"secret": SECRET}, tenant="acme")

    assert result.status == 200, result.body
    assert _stored_secret("globex", _tool_id(admin, TRACK)) == SECRET
    assert _stored_secret("acme", _tool_id(admin, TRACK)) is None
    [row] = audit_rows(AuditLog.action == "tenant.tool_secret.put")
    assert row.tenant_id == "globex"
    assert [m.tenant_ids for m in reload_queue.messages()] == [("globex",)]


# --- refusals ----------------------------------------------------------------------------------


def test_a_tenant_admin_cannot_touch_another_tenants_secret(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    admin("PUT", _secret_path("globex", TRACK), {"secret": SECRET})
    reload_queue.messages()
    audited = len(audit_rows())

    put = admin("PUT", _secret_path("globex", TRACK), {"secret": OTHER_SECRET}, roles=TENANT_ADMIN)
    delete = admin("DELETE", _secret_path("globex", TRACK), roles=TENANT_ADMIN)

    for result in (put, delete):
        assert result.status == 403, result.body
        assert result.body["error"]["code"] == "forbidden"
    assert _stored_secret("globex", _tool_id(admin, TRACK)) == SECRET
    assert len(audit_rows()) == audited
    assert reload_queue.messages() == []


def test_a_user_without_an_admin_role_is_refused(reload_queue: ReloadQueue, admin: Admin) -> None:
    result = admin("PUT", _secret_path("acme", TRACK), {"secret": SECRET}, roles=())

    assert result.status == 403
    assert _stored_secret("acme", _tool_id(admin, TRACK)) is None


def test_an_unknown_or_deleted_tool_or_tenant_is_404(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    track_id = _tool_id(admin, TRACK)
    gone = admin("POST", "/api/admin/tools", _partner_tool("http://127.0.0.1:9")).body
    deleted = admin("DELETE", f"/api/admin/tools/{gone['id']}", headers={"If-Match": '"1"'})
    assert deleted.status == 200, deleted.body
    reload_queue.messages()
    audited = len(audit_rows())

    for path in (
        _secret_path("acme", "no_such_tool"),
        _secret_path("acme", str(uuid.uuid4())),
        _secret_path("acme", gone["id"]),
        _secret_path("acme", "get_partner_invoice"),
        _secret_path("nobody", TRACK),
    ):
        for method, body in (("PUT", {"secret": SECRET}), ("DELETE", None)):
            result = admin(method, path, body)

            assert result.status == 404, (method, path, result.body)
            assert result.body["error"]["code"] == "not_found"
    assert _stored_secret("acme", track_id) is None
    assert _permission("acme", gone["id"]) is None
    assert len(audit_rows()) == audited
    assert reload_queue.messages() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "secret"),
        ({"secret": ""}, "secret"),
        ({"secret": "x" * 4097}, "secret"),
        ({"secret": None}, "secret"),
        ({"secret": 12345678901234}, "secret"),
        ({"secret": f"{SECRET}\r\nX-Injected: 1"}, "secret"),
        ({"secret": f" {SECRET}"}, "secret"),
        ({"secret": f"{SECRET}é"}, "secret"),
        ({"secret": SECRET, "enabled": True}, "enabled"),
    ],
)
def test_an_invalid_body_is_422_naming_the_field_and_writes_nothing(
    reload_queue: ReloadQueue, admin: Admin, body: dict[str, Any], field: str
) -> None:
    result = admin("PUT", _secret_path("acme", TRACK), body)

    assert result.status == 422, result.body
    assert result.body["error"]["code"] == "validation_error"
    assert field in [d["field"] for d in result.body["error"]["details"]]
    assert SECRET not in json.dumps(result.body)
    assert _stored_secret("acme", _tool_id(admin, TRACK)) is None
    assert audit_rows() == []
    assert reload_queue.messages() == []


def test_the_longest_secret_allowed_is_accepted(reload_queue: ReloadQueue, admin: Admin) -> None:
    longest = "k" * 4096

    result = admin("PUT", _secret_path("acme", TRACK), {"secret": longest})

    assert result.status == 200, result.body
    assert _stored_secret("acme", _tool_id(admin, TRACK)) == longest


def test_the_endpoints_are_documented_with_an_example(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    document = admin("GET", "/api/admin/openapi.json").body

    operations = document["paths"]["/api/admin/tenants/{tenant_id}/tools/{tool}/secret"]
    assert set(operations) == {"put", "delete"}
    schema = document["components"]["schemas"]["ToolSecretPut"]
    assert schema["additionalProperties"] is False
    assert schema["examples"][0]["secret"]


# --- end to end: the secret reaches the tool's API ---------------------------------------------


class PartnerApi(BaseHTTPRequestHandler):
    """A partner ERP on loopback: records the headers of every request, answers an invoice."""

    received: list[dict[str, str]]

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.received.append({k.lower(): v for k, v in self.headers.items()})
        payload = json.dumps({"number": self.path.rsplit("/", 1)[-1], "total": 42}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def partner_api(app_env: None) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """The partner API's base URL and the headers it received, request by request."""
    received: list[dict[str, str]] = []
    handler = type("Handler", (PartnerApi,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    close_guarded_clients()  # no pooled connection outlives its server


def _partner_tool(base_url: str) -> dict[str, Any]:
    return {
        "name": "get_partner_invoice",
        "type": "HTTP_GET",
        "description": "Look up an invoice in the partner ERP by number",
        "input_schema": {
            "type": "object",
            "properties": {"number": {"type": "string", "pattern": "^INV-[0-9]+$"}},
            "required": ["number"],
        },
        "config": {
            "url": f"{base_url}/invoices/{{number}}",
            "auth_mode": "tenant_secret",
            "secret_header": "X-Partner-Key",
        },
    }


def _built_tools(tenant_id: str, agent: str) -> dict[str, Any]:
    """The tools the chat runtime would give the tenant's agent, by name."""
    from agenthub.composition import get_pool
    from agenthub.db.tenant_config import TenantConfigReader
    from agenthub.tools.registry import build_available_tools

    config = TenantConfigReader(get_pool()).load(tenant_id)
    spec = config.agent(agent)
    assert spec is not None
    return {tool.name: tool for tool in build_available_tools(spec.tools, tool_deps())}


def _call(tool: Any, args: dict[str, Any], *, tenant_id: str) -> Any:
    from agenthub.domain import TOOL_CONTEXT_KEY, ToolContext

    context = ToolContext(tenant_id=tenant_id, user_id="alice", user_jwt=SecretStr("unused-jwt"))
    return tool.invoke(
        {"type": "tool_call", "id": "call-1", "name": tool.name, "args": args},
        config={"configurable": {TOOL_CONTEXT_KEY: context}},
    )


def test_a_secret_set_through_the_api_reaches_the_tools_service(
    reload_queue: ReloadQueue,
    admin: Admin,
    partner_api: tuple[str, list[dict[str, str]]],
    log_lines: list[str],
) -> None:
    base_url, received = partner_api
    # GIVEN a tenant_secret tool, given to the debt agent and switched on for acme and globex
    tool = admin("POST", "/api/admin/tools", _partner_tool(base_url))
    assert tool.status == 201, tool.body
    agents = admin("GET", "/api/admin/agents").body["items"]
    debt_id = next(a["id"] for a in agents if a["name"] == "debt")
    assigned = admin("PUT", f"/api/admin/agents/{debt_id}/tools/{tool.body['id']}", {"priority": 0})
    assert assigned.status == 200, assigned.body
    for tenant in ("acme", "globex"):
        version = admin("GET", f"/api/admin/tenants/{tenant}/permissions").body["version"]
        enabled = admin(
            "PATCH",
            f"/api/admin/tenants/{tenant}/permissions",
            {"tools": {"get_partner_invoice": True}, "version": version},
        )
        assert enabled.status == 200, enabled.body
    # ... which no tenant gets while it has no secret
    assert "get_partner_invoice" not in _built_tools("acme", "debt")

    # WHEN acme's admin sets acme's secret for it
    put = admin(
        "PUT",
        _secret_path("acme", "get_partner_invoice"),
        {"secret": SECRET},
        roles=TENANT_ADMIN,
    )
    assert put.status == 200, put.body

    # THEN acme's debt agent gets the tool, and calling it sends the secret in the header
    acme_tools = _built_tools("acme", "debt")
    message = _call(acme_tools["get_partner_invoice"], {"number": "INV-7"}, tenant_id="acme")
    assert message.status == "success", message.content
    assert json.loads(message.content) == {"number": "INV-7", "total": 42}
    [request] = received
    assert request["x-partner-key"] == SECRET
    assert "authorization" not in request
    # AND globex, with no secret, still does not get it (its other tools stay)
    globex_tools = _built_tools("globex", "debt")
    assert "get_partner_invoice" not in globex_tools
    assert "get_customer_debt_by_mst" in globex_tools
    # AND the secret never reached a log line (the call and the left-out tool were logged)
    assert any("tool call" in line for line in log_lines)
    assert any("tool left out" in line for line in log_lines)
    assert SECRET not in "\n".join(log_lines)
