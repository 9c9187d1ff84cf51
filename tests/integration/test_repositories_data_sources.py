"""DataSourceRepository on real PostgreSQL: tenant-scoped reads and writes, versions, rotation."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agenthub.crypto import KeyRing, generate_key
from agenthub.db.engine import transaction
from agenthub.errors import VersionConflictError
from agenthub.repositories import DataSourceRepository
from agenthub.services.keys import DATA_SOURCE_URLS, rotate_all
from tests.integration.repo_builders import make_tenants

pytest_plugins = ["tests.integration.repo_fixtures"]


def _put(db: Session, tenant_id: str, name: str, token: bytes) -> None:
    DataSourceRepository(db).put(
        tenant_id=tenant_id, name=name, encrypted_url=token, url_hint="hint", description=""
    )


def test_a_data_source_is_read_only_under_its_own_tenant(repo_db: Session) -> None:
    make_tenants(repo_db, "tenant-a", "tenant-b")
    _put(repo_db, "tenant-a", "analytics", b"token-a")
    _put(repo_db, "tenant-b", "analytics", b"token-b")
    repo = DataSourceRepository(repo_db)

    assert repo.get(tenant_id="tenant-a", name="analytics").encrypted_url == b"token-a"  # type: ignore[union-attr]
    assert [(s.name, s.encrypted_url) for s in repo.list(tenant_id="tenant-b")] == [
        ("analytics", b"token-b")
    ]
    assert [s.tenant_id for s in repo.list(tenant_id="tenant-a")] == ["tenant-a"]
    assert repo.get(tenant_id="tenant-c", name="analytics") is None
    # Deleting under one tenant leaves the other's alone.
    assert repo.delete(tenant_id="tenant-a", name="analytics") is True
    assert repo.delete(tenant_id="tenant-a", name="analytics") is False
    assert [(s.name, s.encrypted_url) for s in repo.list(tenant_id="tenant-b")] == [
        ("analytics", b"token-b")
    ]


def test_replacing_moves_the_version_and_a_stale_one_is_refused(repo_db: Session) -> None:
    make_tenants(repo_db, "tenant-a")
    repo = DataSourceRepository(repo_db)
    first, created = repo.put(
        tenant_id="tenant-a", name="sales", encrypted_url=b"1", url_hint="h", description=""
    )
    assert created and first.version == 1

    second, created = repo.put(
        tenant_id="tenant-a",
        name="sales",
        encrypted_url=b"2",
        url_hint="h",
        description="",
        expected_version=1,
    )
    assert not created and second.version == 2
    with pytest.raises(VersionConflictError):
        repo.put(
            tenant_id="tenant-a",
            name="sales",
            encrypted_url=b"3",
            url_hint="h",
            description="",
            expected_version=1,
        )


def test_key_rotation_re_encrypts_the_urls_and_moves_the_config_version(
    repo_factory: sessionmaker[Session],
) -> None:
    old, new = generate_key(), generate_key()
    with transaction(repo_factory) as db:
        make_tenants(db, "tenant-a", "tenant-b")
        _put(db, "tenant-a", "analytics", KeyRing([old]).encrypt("postgresql://u:pw@h/db"))

    with transaction(repo_factory) as db:
        report = rotate_all(db, KeyRing([new, old]))

    assert report.counts[DATA_SOURCE_URLS] == 1
    assert report.tenant_ids == ("tenant-a",)
    with transaction(repo_factory) as db:
        source = DataSourceRepository(db).get(tenant_id="tenant-a", name="analytics")
        assert source is not None
        token = source.encrypted_url
    assert KeyRing([new]).decrypt(token).get_secret_value() == "postgresql://u:pw@h/db"
