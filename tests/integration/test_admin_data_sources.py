"""Tenant data sources (DB_QUERY) through the admin Lambda handler: stored encrypted, shown
masked, host-checked, audited, versioned and reloaded; another tenant's never reachable."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from agenthub.db.models import AuditLog, Tenant, TenantDataSource
from tests.integration.admin_support import (
    TENANT_ADMIN,
    Admin,
    ReloadQueue,
    all_audit_text,
    audit_rows,
    count,
)
from tests.integration.test_us2_admin_change_reaches_chat import deliver_reload_messages
from tests.support.lambda_events import HttpResult

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]

PASSWORD = "s3cret-Pa55word"
URL = f"postgresql://reporting:{PASSWORD}@127.0.0.1:6543/warehouse?sslmode=prefer"
MASKED = "postgresql://reporting:***@127.0.0.1:6543/warehouse?sslmode=prefer"


def _path(tenant: str, name: str = "warehouse") -> str:
    return f"/api/admin/tenants/{tenant}/data-sources/{name}"


def _stored(tenant: str, name: str = "warehouse") -> str | None:
    """The URL as stored, decrypted (what only the tool ever sees)."""
    from sqlalchemy import select

    from agenthub.composition import get_keyring, get_sessionmaker

    with get_sessionmaker()() as db:
        row = db.scalars(
            select(TenantDataSource).where(
                TenantDataSource.tenant_id == tenant, TenantDataSource.name == name
            )
        ).one_or_none()
        if row is None:
            return None
        assert PASSWORD.encode() not in row.encrypted_url
        return get_keyring().decrypt(row.encrypted_url).get_secret_value()


def _config_version(tenant: str) -> int:
    from agenthub.composition import get_sessionmaker

    with get_sessionmaker()() as db:
        found = db.get(Tenant, tenant)
        assert found is not None
        return found.config_version


def test_a_tenant_admin_puts_a_data_source_stored_encrypted_and_shown_masked(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    version = _config_version("acme")

    put = admin("PUT", _path("acme"), {"url": URL, "description": "Warehouse"}, roles=TENANT_ADMIN)

    assert put.status == 200, put.body
    assert put.body["url"] == MASKED
    assert put.body["version"] == 1 and put.body["reload"] == "queued"
    assert put.headers["etag"] == '"1"'
    assert PASSWORD not in json.dumps(put.body)
    assert _stored("acme") == URL
    assert _config_version("acme") > version
    [message] = reload_queue.messages()
    assert message.tenant_ids == ("acme",)
    [row] = audit_rows(AuditLog.action == "tenant.data_source.create")
    assert (row.tenant_id, row.entity_type) == ("acme", "tenant_data_source")
    assert row.after == {"name": "warehouse", "description": "Warehouse", "url": MASKED}
    assert PASSWORD not in all_audit_text()
    got = admin("GET", _path("acme"), roles=TENANT_ADMIN)
    assert got.status == 200 and got.body["url"] == MASKED and PASSWORD not in json.dumps(got.body)
    listed = admin("GET", "/api/admin/tenants/acme/data-sources", roles=TENANT_ADMIN)
    assert [s["name"] for s in listed.body["items"]] == ["analytics", "warehouse"]
    assert PASSWORD not in json.dumps(listed.body)


def test_replacing_checks_the_version_and_is_audited(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    admin("PUT", _path("acme"), {"url": URL})
    new_url = URL.replace("6543", "6544")

    stale = admin("PUT", _path("acme"), {"url": new_url}, headers={"If-Match": '"7"'})
    replaced = admin("PUT", _path("acme"), {"url": new_url}, headers={"If-Match": '"1"'})

    assert stale.status == 409, stale.body
    assert replaced.status == 200, replaced.body
    assert replaced.body["version"] == 2
    assert replaced.body["url"].startswith("postgresql://reporting:***@127.0.0.1:6544/")
    assert _stored("acme") == new_url
    [row] = audit_rows(AuditLog.action == "tenant.data_source.replace")
    assert row.before["url"] == MASKED and ":6544/" in row.after["url"]


def test_delete_removes_it_and_a_second_delete_is_404(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    admin("PUT", _path("acme"), {"url": URL})
    reload_queue.messages()

    deleted = admin("DELETE", _path("acme"), roles=TENANT_ADMIN)
    again = admin("DELETE", _path("acme"), roles=TENANT_ADMIN)
    fetched = admin("GET", _path("acme"), roles=TENANT_ADMIN)

    assert deleted.status == 200, deleted.body
    assert deleted.body["url"] == MASKED and deleted.body["reload"] == "queued"
    assert again.status == 404 and fetched.status == 404
    assert _stored("acme") is None
    assert [m.tenant_ids for m in reload_queue.messages()] == [("acme",)]
    [row] = audit_rows(AuditLog.action == "tenant.data_source.delete")
    assert row.before["url"] == MASKED and row.after is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:p@127.0.0.1/db", "starts with postgresql://"),
        ("https://127.0.0.1/db", "starts with postgresql://"),
        ("postgresql://u:p@127.0.0.1/db?hostaddr=10.0.0.1", "hostaddr"),
        ("postgresql://u:p@127.0.0.1/db?options=-cstatement_timeout%3D0", "options"),
        ("postgresql://u:p@127.0.0.1/db?passfile=/etc/passwd", "passfile"),
        ("postgresql://u:p@127.0.0.1/db?sslkey=/etc/ssl/private/key", "sslkey"),
        ("postgresql://u:p@127.0.0.1,127.0.0.2/db", "one host only"),
        ("postgresql://u:p@127.0.0.1:5432", "names no database"),
        ("postgresql://u:p@169.254.169.254/db", "metadata"),
        ("postgresql://u:p@10.0.0.5/db", "private address"),
        ("postgresql://u:p@[::ffff:10.0.0.5]/db", "IPv4-mapped"),
        ("postgresql://u:p@no-such-host.invalid/db", "does not resolve"),
        ("postgresql://u:p@127.0.0.1:99999/db", "port"),
    ],
)
def test_a_bad_or_unsafe_url_is_422_and_changes_nothing(
    reload_queue: ReloadQueue, admin: Admin, url: str, message: str
) -> None:
    audited, version = len(audit_rows()), _config_version("acme")

    result = admin("PUT", _path("acme"), {"url": url})

    assert result.status == 422, result.body
    assert result.body["error"]["code"] == "validation_error"
    assert message in result.body["error"]["message"]
    assert "p@" not in json.dumps(result.body)  # the URL (and its password) is not echoed
    assert _stored("acme") is None
    assert (len(audit_rows()), _config_version("acme")) == (audited, version)
    assert reload_queue.messages() == []


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("Warehouse", {"url": URL}),
        ("ware-house", {"url": URL}),
        ("warehouse", {"url": URL, "extra": 1}),
        ("warehouse", {}),
    ],
)
def test_a_bad_name_or_body_is_422(
    reload_queue: ReloadQueue, admin: Admin, name: str, body: dict[str, Any]
) -> None:
    result = admin("PUT", _path("acme", name), body)

    assert result.status == 422, result.body
    assert count(TenantDataSource, TenantDataSource.name == name.lower()) == 0


# --- other tenants ------------------------------------------------------------------------------


def test_a_tenant_admin_cannot_read_or_touch_another_tenants_data_source(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    admin("PUT", _path("globex"), {"url": URL})
    reload_queue.messages()
    audited = len(audit_rows())

    results = [
        admin("GET", _path("globex"), roles=TENANT_ADMIN),
        admin("GET", "/api/admin/tenants/globex/data-sources", roles=TENANT_ADMIN),
        admin("PUT", _path("globex"), {"url": URL.replace("6543", "1")}, roles=TENANT_ADMIN),
        admin("DELETE", _path("globex"), roles=TENANT_ADMIN),
    ]

    for result in results:
        assert result.status == 403, result.body
        assert result.body["error"]["code"] == "forbidden"
    assert _stored("globex") == URL
    assert len(audit_rows()) == audited
    assert reload_queue.messages() == []


def test_a_data_source_is_only_found_under_its_own_tenant(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    admin("PUT", _path("globex"), {"url": URL})

    acme = admin("GET", _path("acme"))
    acme_list = admin("GET", "/api/admin/tenants/acme/data-sources")
    deleted = admin("DELETE", _path("acme"))

    assert acme.status == 404 and deleted.status == 404
    assert "warehouse" not in [s["name"] for s in acme_list.body["items"]]
    assert _stored("globex") == URL


def test_an_unknown_tenant_or_a_user_without_an_admin_role(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    assert admin("GET", _path("initech")).status == 404
    assert admin("PUT", _path("initech"), {"url": URL}).status == 404
    assert admin("PUT", _path("acme"), {"url": URL}, roles=()).status == 403
    assert _stored("acme") is None


# --- the change reaches chat --------------------------------------------------------------------


def test_after_the_data_source_is_removed_the_agent_explains_it(
    reload_queue: ReloadQueue, admin: Admin, chat: Callable[..., HttpResult]
) -> None:
    before = chat("Revenue by month in 2025")
    assert before.body["format"] == "chart", before.body

    assert admin("DELETE", _path("acme", "analytics")).status == 200
    assert deliver_reload_messages(reload_queue.client, reload_queue.url) == 1
    after = chat("Revenue by month in 2025")
    other = chat("Revenue by month in 2025", tenant="globex")

    assert after.status == 200, after.body
    assert after.body["agent"] == "analysis" and after.body["format"] == "text"
    assert "no data source named 'analytics'" in after.body["text"]
    assert other.body["format"] == "chart"  # globex keeps its own
