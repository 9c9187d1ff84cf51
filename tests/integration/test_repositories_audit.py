"""AuditRepository: append-only trail, listed newest first, scoped by tenant."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from agenthub.errors import BadRequestError
from agenthub.repositories import AuditRepository
from tests.integration.repo_builders import TENANT_A, TENANT_B

pytest_plugins = ["tests.integration.repo_fixtures"]


def _record(audit: AuditRepository, tenant_id: str | None, action: str) -> None:
    audit.record(
        tenant_id=tenant_id,
        actor="admin@example.test",
        actor_tenant_id=tenant_id,
        action=action,
        entity_type="tenant",
        entity_id=tenant_id or "platform",
        before=None,
        after={"action": action},
        request_id="req-1",
    )


def test_record_stores_json_values_of_any_common_type(repo_db: Session) -> None:
    audit = AuditRepository(repo_db)
    agent_id = uuid.uuid4()
    entry = audit.record(
        tenant_id=None,
        actor="root",
        actor_tenant_id=None,
        action="agent.update",
        entity_type="agent",
        entity_id=str(agent_id),
        before={"id": agent_id, "temperature": Decimal("0.20")},
        after={"id": agent_id, "temperature": Decimal("0.50")},
        request_id=None,
    )
    repo_db.expire_all()
    (stored,) = audit.list(tenant_id=None)
    assert stored.id == entry.id
    assert stored.before == {"id": str(agent_id), "temperature": "0.20"}
    assert stored.after == {"id": str(agent_id), "temperature": "0.50"}
    assert stored.created_at is not None


def test_entries_are_listed_newest_first_up_to_the_limit(repo_db: Session) -> None:
    audit = AuditRepository(repo_db)
    for action in ("first", "second", "third"):
        _record(audit, TENANT_A, action)
    assert [e.action for e in audit.list(tenant_id=TENANT_A, limit=2)] == ["third", "second"]
    with pytest.raises(BadRequestError):
        audit.list(tenant_id=TENANT_A, limit=0)


def test_tenant_b_cannot_read_tenant_a_audit_entries(repo_db: Session) -> None:
    """Cross-tenant: each tenant lists only its own entries; global ones only without tenant."""
    audit = AuditRepository(repo_db)
    _record(audit, TENANT_A, "a.change")
    _record(audit, None, "platform.change")
    _record(audit, TENANT_B, "b.change")
    assert [e.action for e in audit.list(tenant_id=TENANT_A)] == ["a.change"]
    assert [e.action for e in audit.list(tenant_id=TENANT_B)] == ["b.change"]
    assert [e.action for e in audit.list(tenant_id=None)] == ["platform.change"]
    assert audit.list(tenant_id="tenant-c") == []
