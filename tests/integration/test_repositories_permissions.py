"""PermissionRepository: which agents and tools each tenant may use, and the top-5 tool rule."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from agenthub.errors import NotFoundError
from agenthub.repositories import (
    AgentConfigRepository,
    PermissionRepository,
)
from tests.integration.repo_builders import (
    TENANT_A,
    TENANT_B,
    Catalogue,
    make_agent,
    make_catalogue,
    make_tenants,
    make_tool,
)

pytest_plugins = ["tests.integration.repo_fixtures"]


@pytest.fixture
def catalogue(repo_db: Session) -> Catalogue:
    make_tenants(repo_db, TENANT_A, TENANT_B)
    return make_catalogue(repo_db)


def test_agent_permissions_are_listed_by_agent_name_whatever_their_state(
    repo_db: Session, catalogue: Catalogue
) -> None:
    """What a tenant may use of them is its runtime config's business (test_tenant_config)."""
    permissions = PermissionRepository(repo_db)
    agents = {
        name: make_agent(repo_db, catalogue, name, is_active=name != "paused")
        for name in ("shipment", "debt", "paused", "disabled", "unlisted")
    }
    for name in ("shipment", "debt", "paused"):
        permissions.set_agent(tenant_id=TENANT_A, agent_id=agents[name].id, enabled=True)
    permissions.set_agent(tenant_id=TENANT_A, agent_id=agents["disabled"].id, enabled=False)

    assert [p.agent_id for p in permissions.list_agent_permissions(tenant_id=TENANT_A)] == [
        agents[name].id for name in ("debt", "disabled", "paused", "shipment")
    ]


def test_set_agent_updates_in_place_and_refuses_unknown_agents(
    repo_db: Session, catalogue: Catalogue
) -> None:
    permissions = PermissionRepository(repo_db)
    agent = make_agent(repo_db, catalogue, "debt")
    permissions.set_agent(tenant_id=TENANT_A, agent_id=agent.id, enabled=True)
    permissions.set_agent(tenant_id=TENANT_A, agent_id=agent.id, enabled=False)
    assert [p.enabled for p in permissions.list_agent_permissions(tenant_id=TENANT_A)] == [False]
    with pytest.raises(NotFoundError):
        permissions.set_agent(tenant_id=TENANT_A, agent_id=uuid.uuid4(), enabled=True)
    with pytest.raises(NotFoundError):
        permissions.set_agent(tenant_id="nobody", agent_id=agent.id, enabled=True)


def test_set_tool_keeps_the_secret_unless_given(repo_db: Session, catalogue: Catalogue) -> None:
    permissions = PermissionRepository(repo_db)
    tool = make_tool(repo_db, catalogue, "lookup")
    permissions.set_tool(tenant_id=TENANT_A, tool_id=tool.id, enabled=True, encrypted_secret=b"s")
    kept = permissions.set_tool(tenant_id=TENANT_A, tool_id=tool.id, enabled=False)
    assert (kept.enabled, kept.encrypted_secret) == (False, b"s")
    cleared = permissions.set_tool(
        tenant_id=TENANT_A, tool_id=tool.id, enabled=True, encrypted_secret=None
    )
    assert cleared.encrypted_secret is None
    with pytest.raises(NotFoundError):
        permissions.set_tool(tenant_id=TENANT_A, tool_id=uuid.uuid4(), enabled=True)


def test_tenant_b_cannot_read_or_change_tenant_a_permissions(
    repo_db: Session, catalogue: Catalogue
) -> None:
    """Cross-tenant: B sees none of A's grants, and B's changes write only B's rows."""
    permissions = PermissionRepository(repo_db)
    agent = make_agent(repo_db, catalogue, "debt")
    tool = make_tool(repo_db, catalogue, "lookup")
    AgentConfigRepository(repo_db).assign_tool(agent_id=agent.id, tool_id=tool.id, priority=1)
    permissions.set_agent(tenant_id=TENANT_A, agent_id=agent.id, enabled=True)
    permissions.set_tool(
        tenant_id=TENANT_A, tool_id=tool.id, enabled=True, encrypted_secret=b"a-secret"
    )
    # B reads nothing of A's
    assert permissions.list_agent_permissions(tenant_id=TENANT_B) == []
    assert permissions.list_tool_permissions(tenant_id=TENANT_B) == []
    # B's writes (disable, clear the secret, rotate) leave A's rows as they were
    permissions.set_agent(tenant_id=TENANT_B, agent_id=agent.id, enabled=False)
    permissions.set_tool(tenant_id=TENANT_B, tool_id=tool.id, enabled=False, encrypted_secret=None)
    assert permissions.reencrypt_tool_secrets(tenant_id=TENANT_B, rotate=lambda t: b"x") == 0
    repo_db.expire_all()
    assert [
        (p.agent_id, p.enabled) for p in permissions.list_agent_permissions(tenant_id=TENANT_A)
    ] == [(agent.id, True)]
    assert [
        (p.tool_id, p.enabled, p.encrypted_secret)
        for p in permissions.list_tool_permissions(tenant_id=TENANT_A)
    ] == [(tool.id, True, b"a-secret")]
    assert [
        (p.tenant_id, p.enabled) for p in permissions.list_tool_permissions(tenant_id=TENANT_B)
    ] == [(TENANT_B, False)]


def test_reencrypt_tool_secrets_rewrites_only_stored_secrets(
    repo_db: Session, catalogue: Catalogue
) -> None:
    permissions = PermissionRepository(repo_db)
    with_secret = make_tool(repo_db, catalogue, "with_secret")
    without = make_tool(repo_db, catalogue, "without")
    permissions.set_tool(
        tenant_id=TENANT_A, tool_id=with_secret.id, enabled=True, encrypted_secret=b"old"
    )
    permissions.set_tool(tenant_id=TENANT_A, tool_id=without.id, enabled=True)
    assert permissions.reencrypt_tool_secrets(tenant_id=TENANT_A, rotate=lambda t: t + b"!") == 1
    stored = {
        p.tool_id: p.encrypted_secret for p in permissions.list_tool_permissions(tenant_id=TENANT_A)
    }
    assert stored == {with_secret.id: b"old!", without.id: None}
