"""TenantRepository on real PostgreSQL: settings with optimistic concurrency, config versions."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.engine import transaction
from agenthub.db.models import MultiIntentPolicy
from agenthub.errors import (
    ConflictError,
    NotFoundError,
    ValidationFailedError,
    VersionConflictError,
)
from agenthub.repositories import TenantRepository
from tests.integration.repo_builders import TENANT_A, TENANT_B, make_tenants

pytest_plugins = ["tests.integration.repo_fixtures"]


def test_create_stores_defaults_and_given_settings(repo_factory: sessionmaker[Session]) -> None:
    # WHEN a tenant is created in a transaction that then ends
    with transaction(repo_factory) as db:
        tenant = TenantRepository(db).create(
            tenant_id=TENANT_A, name="Acme", retention_days=30, multi_intent_policy="parallel"
        )
    # THEN the returned row is fully loaded (usable after the session closed)
    assert tenant.retention_days == 30
    assert tenant.multi_intent_policy is MultiIntentPolicy.PARALLEL
    assert tenant.memory_max_tokens == 2000
    assert tenant.version == 1
    assert tenant.config_version == 1
    assert tenant.created_at is not None
    with repo_factory() as db:
        assert TenantRepository(db).require(TENANT_A).name == "Acme"


def test_create_refuses_an_existing_id_and_leaves_the_transaction_usable(repo_db: Session) -> None:
    make_tenants(repo_db, TENANT_A)
    tenants = TenantRepository(repo_db)
    with pytest.raises(ConflictError):
        tenants.create(tenant_id=TENANT_A, name="again")
    tenants.create(tenant_id=TENANT_B, name="still works")
    assert [t.id for t in tenants.list()] == [TENANT_A, TENANT_B]


def test_create_refuses_a_malformed_id_as_validation_error(repo_db: Session) -> None:
    with pytest.raises(ValidationFailedError, match="id_format"):
        TenantRepository(repo_db).create(tenant_id="Not A Slug!", name="x")


def test_create_refuses_unknown_settings(repo_db: Session) -> None:
    with pytest.raises(ValidationFailedError, match="config_version"):
        TenantRepository(repo_db).create(tenant_id=TENANT_A, name="x", config_version=99)


def test_get_and_require_an_unknown_tenant(repo_db: Session) -> None:
    tenants = TenantRepository(repo_db)
    assert tenants.get("nobody") is None
    with pytest.raises(NotFoundError):
        tenants.require("nobody")


def test_update_settings_changes_allowed_fields_and_moves_the_version(
    repo_factory: sessionmaker[Session],
) -> None:
    with transaction(repo_factory) as db:
        make_tenants(db, TENANT_A)
    with transaction(repo_factory) as db:
        tenant = TenantRepository(db).update_settings(
            tenant_id=TENANT_A,
            expected_version=1,
            changes={"retention_days": 7, "multi_intent_policy": "parallel", "name": "Renamed"},
        )
    assert (tenant.retention_days, tenant.name, tenant.version) == (7, "Renamed", 2)
    assert tenant.multi_intent_policy is MultiIntentPolicy.PARALLEL
    assert tenant.updated_at >= tenant.created_at  # loaded, though the session is closed


def test_update_settings_with_a_stale_version_is_a_conflict_and_changes_nothing(
    repo_db: Session,
) -> None:
    make_tenants(repo_db, TENANT_A)
    tenants = TenantRepository(repo_db)
    tenants.update_settings(tenant_id=TENANT_A, expected_version=1, changes={"retention_days": 5})
    with pytest.raises(VersionConflictError) as raised:
        tenants.update_settings(
            tenant_id=TENANT_A, expected_version=1, changes={"retention_days": 9}
        )
    assert raised.value.details == {"current_version": 2}
    assert tenants.require(TENANT_A).retention_days == 5


@pytest.mark.parametrize(
    "changes",
    [
        {"config_version": 50},
        {"id": "other"},
        {"version": 7},
        {"multi_intent_policy": "sometimes"},
        {"retention_days": 0},
    ],
)
def test_update_settings_refuses_fields_and_values_outside_the_contract(
    repo_db: Session, changes: dict[str, object]
) -> None:
    make_tenants(repo_db, TENANT_A)
    tenants = TenantRepository(repo_db)
    with pytest.raises(ValidationFailedError):
        tenants.update_settings(tenant_id=TENANT_A, expected_version=1, changes=changes)
    # The refused write left the row and the transaction intact.
    tenant = tenants.require(TENANT_A)
    assert (tenant.id, tenant.version, tenant.config_version, tenant.retention_days) == (
        TENANT_A,
        1,
        1,
        90,
    )


def test_update_settings_of_an_unknown_tenant_is_not_found(repo_db: Session) -> None:
    with pytest.raises(NotFoundError):
        TenantRepository(repo_db).update_settings(
            tenant_id="nobody", expected_version=1, changes={"name": "x"}
        )


def test_tenant_b_settings_changes_never_touch_tenant_a(repo_db: Session) -> None:
    """Cross-tenant: updates and config version bumps are scoped to the given tenant."""
    make_tenants(repo_db, TENANT_A, TENANT_B)
    tenants = TenantRepository(repo_db)
    # WHEN tenant B changes its settings and bumps its config version twice
    tenants.update_settings(
        tenant_id=TENANT_B, expected_version=1, changes={"retention_days": 1, "is_active": False}
    )
    tenants.bump_config_version(tenant_id=TENANT_B)
    tenants.bump_config_version(tenant_id=TENANT_B)
    repo_db.expire_all()
    # THEN tenant A is exactly as it was
    tenant_a = tenants.require(TENANT_A)
    assert (tenant_a.retention_days, tenant_a.is_active, tenant_a.version) == (90, True, 1)
    assert (tenant_a.config_version, tenants.require(TENANT_B).config_version) == (1, 3)


def test_bump_config_version_is_atomic_and_visible_to_the_identity_map(repo_db: Session) -> None:
    (tenant,) = make_tenants(repo_db, TENANT_A)
    tenants = TenantRepository(repo_db)
    assert tenants.bump_config_version(tenant_id=TENANT_A) == 2
    assert tenants.bump_config_version(tenant_id=TENANT_A) == 3
    assert tenant.config_version == 3
    assert tenant.version == 1  # a cache version bump is not a settings change


def test_an_unknown_tenants_config_version_cannot_be_bumped(repo_db: Session) -> None:
    tenants = TenantRepository(repo_db)
    with pytest.raises(NotFoundError):
        tenants.bump_config_version(tenant_id="nobody")
