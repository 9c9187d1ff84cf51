"""Reload after admin changes: the SQS message, the reload endpoint, an unreachable queue."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from agenthub.db.models import AuditLog, Tenant
from tests.integration.admin_support import TENANT_ADMIN, Admin, ReloadQueue, audit_rows

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]


def _config_versions() -> dict[str, int]:
    from sqlalchemy import select

    from agenthub.composition import get_sessionmaker

    with get_sessionmaker()() as db:
        return {t.id: t.config_version for t in db.scalars(select(Tenant))}


@pytest.fixture
def unreachable_queue(
    admin_seeded: None, aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The reload queue lives on an endpoint where nothing listens."""
    from agenthub import composition

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AGENTHUB_AWS__RELOAD_QUEUE_URL", f"{endpoint}/000000000000/reload")
    composition.reset()
    yield
    composition.reset()


def test_a_committed_change_puts_a_reload_message_on_the_queue(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    result = admin("PATCH", "/api/admin/tenants/globex", {"retention_days": 7, "version": 1})

    assert result.body["reload"] == "queued"
    [message] = reload_queue.messages()
    assert message.tenant_ids == ("globex",)
    assert message.reason == "tenant settings changed"
    assert message.config_version == _config_versions()["globex"]
    assert message.sent_at


def test_a_tenant_admin_reloads_their_own_tenant(reload_queue: ReloadQueue, admin: Admin) -> None:
    before = _config_versions()

    result = admin("POST", "/api/admin/agents/reload", {}, roles=TENANT_ADMIN)

    assert result.status == 200, result.body
    assert result.body == {"reload": "queued", "tenant_ids": ["acme"]}
    assert _config_versions() == {"acme": before["acme"] + 1, "globex": before["globex"]}
    [message] = reload_queue.messages()
    assert message.tenant_ids == ("acme",)
    [row] = audit_rows(AuditLog.action == "config.reload")
    assert (row.tenant_id, row.actor, row.entity_id) == ("acme", "root", "acme")


def test_a_tenant_admin_cannot_reload_another_tenant_or_every_tenant(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    before = _config_versions()

    other = admin("POST", "/api/admin/agents/reload", {"tenant_id": "globex"}, roles=TENANT_ADMIN)

    assert other.status == 403
    assert _config_versions() == before
    assert reload_queue.messages() == []


def test_a_platform_admin_reloads_every_tenant(reload_queue: ReloadQueue, admin: Admin) -> None:
    before = _config_versions()

    result = admin("POST", "/api/admin/agents/reload", {})

    assert result.body == {"reload": "queued", "tenant_ids": "*"}
    assert _config_versions() == {t: v + 1 for t, v in before.items()}
    [message] = reload_queue.messages()
    assert message.tenant_ids == "*"


def test_reloading_an_unknown_tenant_is_404(reload_queue: ReloadQueue, admin: Admin) -> None:
    result = admin("POST", "/api/admin/agents/reload", {"tenant_id": "nobody"})

    assert result.status == 404
    assert reload_queue.messages() == []
    assert audit_rows() == []


def test_with_the_queue_unreachable_the_change_commits_and_the_reload_is_pending(
    unreachable_queue: None, admin: Admin
) -> None:
    before = _config_versions()

    result = admin("PATCH", "/api/admin/tenants/acme", {"retention_days": 14, "version": 1})

    assert result.status == 200, result.body
    assert result.body["reload"] == "pending"
    assert admin("GET", "/api/admin/tenants/acme").body["retention_days"] == 14
    assert _config_versions()["acme"] == before["acme"] + 1
    assert len(audit_rows(AuditLog.action == "tenant.update")) == 1


def test_a_queue_that_does_not_exist_leaves_the_reload_pending(
    reload_queue: ReloadQueue, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agenthub import composition

    monkeypatch.setenv("AGENTHUB_AWS__RELOAD_QUEUE_URL", reload_queue.url + "-missing")
    composition.reset()

    result = admin("POST", "/api/admin/agents/reload", {"tenant_id": "acme"})

    assert result.status == 200
    assert result.body["reload"] == "pending"
    assert len(audit_rows(AuditLog.action == "config.reload")) == 1
