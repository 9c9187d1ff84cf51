"""A tenant's vectors and files go with the tenant: on deletion, and in the retention sweep for
tenants whose deletion did not finish."""

from __future__ import annotations

import pytest

from agenthub.db.models import KnowledgeBase, KnowledgeDocument, Tenant
from tests.integration.admin_support import TENANT_ADMIN, Admin, audit_rows, count
from tests.integration.knowledge_support import Drain, KnowledgeStack, kb_path, upload_text

pytest_plugins = [
    "tests.integration.chat_fixtures",
    "tests.integration.admin_fixtures",
    "tests.integration.knowledge_fixtures",
]


@pytest.fixture
def stack(admin_seeded: None, knowledge_stack: KnowledgeStack) -> KnowledgeStack:
    return knowledge_stack


def _chroma_databases(stack: KnowledgeStack) -> list[str]:
    from agenthub.knowledge.chroma import ChromaClient

    client = ChromaClient(stack.chroma_url)
    try:
        return client.list_tenant_databases()
    finally:
        client.close()


def _files(stack: KnowledgeStack, tenant_id: str) -> int:
    listing = stack.bucket.client.list_objects_v2(
        Bucket=stack.bucket.name, Prefix=f"tenant/{tenant_id}/"
    )
    return int(listing.get("KeyCount", 0))


def _tenant_with_knowledge(admin: Admin, drain: Drain, tenant_id: str) -> None:
    created = admin("POST", "/api/admin/tenants", {"id": tenant_id, "name": tenant_id.title()})
    assert created.status == 201, created.body
    assert admin("POST", kb_path(tenant_id), {"name": "docs"}).status == 201
    assert upload_text(admin, tenant_id, "docs", "Returns", "Returns within 14 days.").status == 202
    drain()


def test_deleting_a_tenant_removes_its_vectors_and_files_and_nothing_of_others(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain
) -> None:
    # GIVEN two tenants with indexed documents
    _tenant_with_knowledge(admin, drain_ingest, "initech")
    _tenant_with_knowledge(admin, drain_ingest, "umbrella")
    assert {"initech", "umbrella"} <= set(_chroma_databases(stack))
    assert _files(stack, "initech") == _files(stack, "umbrella") == 1
    version = admin("GET", "/api/admin/tenants/initech").body["version"]

    # A tenant admin may not; a stale version is refused
    assert (
        admin("DELETE", "/api/admin/tenants/initech", tenant="initech", roles=TENANT_ADMIN).status
        == 403
    )
    stale = admin("DELETE", "/api/admin/tenants/initech", headers={"If-Match": '"99"'})
    assert stale.status == 409

    # WHEN a platform admin deletes one
    deleted = admin("DELETE", "/api/admin/tenants/initech", headers={"If-Match": f'"{version}"'})

    # THEN its rows, vectors and files are gone, the other tenant's are not
    assert deleted.status == 200, deleted.body
    assert deleted.body == {"tenant_id": "initech", "vector_databases": 1, "files": 1}
    assert count(Tenant, Tenant.id == "initech") == 0
    assert count(KnowledgeBase, KnowledgeBase.tenant_id == "initech") == 0
    assert count(KnowledgeDocument, KnowledgeDocument.tenant_id == "initech") == 0
    assert "initech" not in _chroma_databases(stack)
    assert _files(stack, "initech") == 0
    assert "umbrella" in _chroma_databases(stack)
    assert _files(stack, "umbrella") == 1
    assert [r.action for r in audit_rows() if r.entity_id == "initech"][-1] == "tenant.delete"


def test_retention_sweeps_the_vectors_and_files_of_tenants_that_no_longer_exist(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain
) -> None:
    from agenthub.composition import get_retention_service, get_sessionmaker
    from agenthub.db.engine import transaction

    # GIVEN a tenant removed from the database without its purge (an interrupted deletion)
    _tenant_with_knowledge(admin, drain_ingest, "hooli")
    _tenant_with_knowledge(admin, drain_ingest, "stark")
    with transaction(get_sessionmaker()) as db:
        tenant = db.get(Tenant, "hooli")
        assert tenant is not None
        db.delete(tenant)
    assert "hooli" in _chroma_databases(stack)

    # WHEN the retention run goes
    get_retention_service().run()

    # THEN its vectors and files are gone; a live tenant keeps its own
    assert "hooli" not in _chroma_databases(stack)
    assert _files(stack, "hooli") == 0
    assert "stark" in _chroma_databases(stack)
    assert _files(stack, "stark") == 1

    # AND a dry run or a run for one tenant sweeps nothing
    _tenant_with_knowledge(admin, drain_ingest, "pied-piper")
    with transaction(get_sessionmaker()) as db:
        tenant = db.get(Tenant, "pied-piper")
        assert tenant is not None
        db.delete(tenant)
    get_retention_service().run(dry_run=True)
    get_retention_service().run(tenant_id="stark")
    assert "pied-piper" in _chroma_databases(stack)
