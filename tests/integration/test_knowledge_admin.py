"""The knowledge admin API over HTTP: knowledge bases and documents, on real PostgreSQL, Chroma,
S3 and SQS (moto). Every change is audited and moves the tenant's config version."""

from __future__ import annotations

import hashlib
import uuid

import httpx
import pytest

from agenthub.db.models import AuditLog, KnowledgeBase, KnowledgeDocument
from tests.integration.admin_support import TENANT_ADMIN, Admin, audit_rows, count
from tests.integration.knowledge_support import (
    Drain,
    KnowledgeStack,
    kb_path,
    upload_bytes,
    upload_text,
)
from tests.support.pdf import text_pdf

pytest_plugins = [
    "tests.integration.chat_fixtures",
    "tests.integration.admin_fixtures",
    "tests.integration.knowledge_fixtures",
]

RETURNS = "Returns are accepted within 14 days of delivery, unused and in original packaging."


@pytest.fixture
def stack(admin_seeded: None, knowledge_stack: KnowledgeStack) -> KnowledgeStack:
    return knowledge_stack


def _config_version(tenant_id: str) -> int:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Tenant

    with get_sessionmaker()() as db:
        tenant = db.get(Tenant, tenant_id)
        assert tenant is not None
        return tenant.config_version


def _vectors(stack: KnowledgeStack, tenant_id: str, kb_id: str, document_id: str) -> int:
    from agenthub.knowledge.chroma import ChromaClient
    from agenthub.knowledge.search import collection_name

    client = ChromaClient(stack.chroma_url)
    try:
        return client.count(
            tenant_id, collection_name(uuid.UUID(kb_id)), where={"document_id": document_id}
        )
    finally:
        client.close()


def test_a_tenant_admin_creates_reads_changes_and_deletes_a_knowledge_base(
    stack: KnowledgeStack, admin: Admin
) -> None:
    version_before = _config_version("acme")
    created = admin(
        "POST",
        kb_path("acme"),
        {"name": "handbook", "description": "Staff handbook"},
        roles=TENANT_ADMIN,
    )
    assert created.status == 201, created.body
    assert created.body["embedding_provider"] == "local"
    assert created.body["embedding_dimension"] == 384
    assert created.body["reload"] == "queued"
    kb_id = created.body["id"]
    assert _config_version("acme") > version_before

    # Addressed by name or by id, everywhere
    by_name = admin("GET", kb_path("acme", "handbook"), roles=TENANT_ADMIN)
    by_id = admin("GET", kb_path("acme", kb_id), roles=TENANT_ADMIN)
    assert by_name.status == by_id.status == 200
    assert by_name.body["id"] == by_id.body["id"] == kb_id
    listed = admin("GET", kb_path("acme"), roles=TENANT_ADMIN)
    assert "handbook" in [kb["name"] for kb in listed.body["items"]]

    changed = admin(
        "PATCH",
        kb_path("acme", "handbook"),
        {"description": "Staff handbook 2026"},
        roles=TENANT_ADMIN,
        headers={"If-Match": f'"{by_name.body["version"]}"'},
    )
    assert changed.status == 200, changed.body
    assert changed.body["description"] == "Staff handbook 2026"

    stale = admin(
        "PATCH", kb_path("acme", kb_id), {"description": "x", "version": 1}, roles=TENANT_ADMIN
    )
    assert stale.status == 409

    deleted = admin("DELETE", kb_path("acme", kb_id), roles=TENANT_ADMIN)
    assert deleted.status == 200, deleted.body
    assert admin("GET", kb_path("acme", kb_id), roles=TENANT_ADMIN).status == 404
    actions = [r.action for r in audit_rows(AuditLog.entity_type == "knowledge_base")]
    assert actions == [
        "knowledge_base.create",
        "knowledge_base.update",
        "knowledge_base.delete",
    ]
    assert all(r.tenant_id == "acme" for r in audit_rows(AuditLog.entity_type == "knowledge_base"))


def test_another_tenants_knowledge_bases_can_never_be_reached(
    stack: KnowledgeStack, admin: Admin
) -> None:
    acme = admin("POST", kb_path("acme"), {"name": "secret-kb"}, roles=TENANT_ADMIN)
    assert acme.status == 201
    kb_id = acme.body["id"]
    document = upload_text(admin, "acme", "secret-kb", "Secret", "acme only", roles=TENANT_ADMIN)
    assert document.status == 202
    doc_path = f"/documents/{document.body['id']}"

    # A globex admin on acme's paths: 403, whatever the route
    for method, path in [
        ("GET", kb_path("acme")),
        ("GET", kb_path("acme", "secret-kb")),
        ("GET", kb_path("acme", kb_id) + "/documents"),
        ("GET", kb_path("acme", kb_id) + doc_path),
        ("DELETE", kb_path("acme", kb_id) + doc_path),
        ("DELETE", kb_path("acme", kb_id)),
    ]:
        result = admin(method, path, tenant="globex", roles=TENANT_ADMIN)
        assert result.status == 403, (method, path, result.body)

    # acme's knowledge base under globex's path (by name or id): not found
    for ref in ("secret-kb", kb_id):
        assert admin("GET", kb_path("globex", ref), tenant="globex").status == 404
        result = admin("GET", kb_path("globex", ref) + doc_path, tenant="globex")
        assert result.status == 404
        post = upload_text(admin, "globex", ref, "x", "y", tenant="globex")
        assert post.status == 404
    globex_names = [kb["name"] for kb in admin("GET", kb_path("globex")).body["items"]]
    assert "secret-kb" not in globex_names
    assert count(KnowledgeDocument) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"name": "ok", "embedding_provider": "cohere"}, "embedding_provider"),
        (
            {"name": "ok", "embedding_provider": "openai", "embedding_model": "ada"},
            "embedding_model",
        ),
        ({"name": "ok", "chunk_size": 50}, "chunk_size"),
        ({"name": "ok", "chunk_size": 400, "chunk_overlap": 300}, "chunk_overlap"),
        ({"name": "ok", "surprise": True}, "surprise"),
    ],
)
def test_invalid_knowledge_bases_are_422_naming_the_field_and_write_nothing(
    stack: KnowledgeStack, admin: Admin, body: dict[str, object], field: str
) -> None:
    result = admin("POST", kb_path("acme"), body)
    assert result.status == 422, result.body
    assert any(field in d["field"] for d in result.body["error"]["details"]), result.body
    assert count(KnowledgeBase, KnowledgeBase.name == "ok") == 0


def test_documents_upload_index_list_and_the_same_content_again_is_a_no_op(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain
) -> None:
    assert admin("POST", kb_path("acme"), {"name": "policies-x"}).status == 201
    first = upload_text(admin, "acme", "policies-x", "Returns", RETURNS)
    assert first.status == 202, first.body
    assert first.body["checksum"] == hashlib.sha256(RETURNS.encode()).hexdigest()
    again = upload_text(admin, "acme", "policies-x", "Returns again", RETURNS)
    assert again.status == 200
    assert again.body["id"] == first.body["id"]
    assert again.body["ingestion"] == "none"

    drain_ingest()
    listed = admin("GET", kb_path("acme", "policies-x") + "/documents")
    assert [d["status"] for d in listed.body["items"]] == ["ready"]
    assert listed.body["items"][0]["chunk_count"] >= 1
    # The original is in S3 under the tenant's prefix
    key = f"tenant/acme/kb/{first.body['knowledge_base_id']}/{first.body['id']}"
    stored = stack.bucket.client.get_object(Bucket=stack.bucket.name, Key=key)
    assert stored["Body"].read() == RETURNS.encode()
    # Once it has documents, the embedding model is fixed
    kb = admin("GET", kb_path("acme", "policies-x")).body
    switch = admin(
        "PATCH",
        kb_path("acme", "policies-x"),
        {"embedding_provider": "bedrock", "version": kb["version"]},
    )
    assert switch.status == 409
    assert "fixed" in switch.body["error"]["message"]


def test_multipart_html_and_pdf_documents_are_indexed(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain
) -> None:
    assert admin("POST", kb_path("acme"), {"name": "mixed"}).status == 201
    boundary = "agenthubboundary"
    html = "<html><body><h1>Shipping</h1><p>Delivery takes 2-4 business days.</p></body></html>"
    multipart = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="title"\r\n\r\nShipping times\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="shipping.html"\r\n'
        "Content-Type: text/html\r\n\r\n"
        f"{html}\r\n--{boundary}--\r\n"
    )
    posted = admin(
        "POST",
        kb_path("acme", "mixed") + "/documents",
        raw_body=multipart,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert posted.status == 202, posted.body
    assert posted.body["filename"] == "shipping.html"
    assert posted.body["title"] == "Shipping times"
    pdf = upload_bytes(
        admin, "acme", "mixed", "Warranty", text_pdf(["Warranty: 36 months."]), "application/pdf"
    )
    assert pdf.status == 202, pdf.body
    drain_ingest()
    statuses = {
        d["title"]: d["status"]
        for d in admin("GET", kb_path("acme", "mixed") + "/documents").body["items"]
    }
    assert statuses == {"Shipping times": "ready", "Warranty": "ready"}


def test_bad_documents_are_refused_before_anything_is_stored(
    stack: KnowledgeStack, admin: Admin
) -> None:
    assert admin("POST", kb_path("acme"), {"name": "strict"}).status == 201
    path = kb_path("acme", "strict") + "/documents"
    cases = {
        "content_type": {
            "title": "fake",
            "content_base64": "JVBERi0xLjQgbm90IHJlYWxseQ==",  # "%PDF-1.4 not really"
            "content_type": "text/plain",
        },
        "content_base64": {"title": "b", "content_base64": "!!!", "content_type": "text/plain"},
        "title": {"text": "no title"},
        "body": {"title": "both", "text": "a", "content_base64": "YQ=="},
    }
    for field, body in cases.items():
        result = admin("POST", path, body)
        assert result.status == 422, (field, result.body)
        assert any(field in d["field"] for d in result.body["error"]["details"]), result.body
    too_big = admin(
        "POST",
        path,
        raw_body='{"title": "big", "text": "' + "x" * (5 * 1024 * 1024 + 10) + '"}',
    )
    assert too_big.status == 413
    assert count(KnowledgeDocument) == 0
    assert stack.bucket.client.list_objects_v2(Bucket=stack.bucket.name).get("KeyCount", 0) == 0


def test_a_large_file_goes_through_a_presigned_upload_then_complete(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain
) -> None:
    assert admin("POST", kb_path("acme"), {"name": "big"}).status == 201
    content = ("Section. Invoices are due within 30 days. " * 400).encode()
    request = {
        "title": "Big handbook",
        "filename": "handbook.txt",
        "content_type": "text/plain",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    grant = admin("POST", kb_path("acme", "big") + "/documents/upload-url", request)
    assert grant.status == 201, grant.body
    document = grant.body["document"]
    assert document["status"] == "uploading"
    complete = grant.body["complete_url"].removeprefix("")

    early = admin("POST", complete)
    assert early.status == 409  # nothing uploaded yet

    put = httpx.put(
        grant.body["upload"]["url"], content=content, headers=grant.body["upload"]["headers"]
    )
    assert put.status_code == 200, put.text
    done = admin("POST", complete)
    assert done.status == 202, done.body
    assert done.body["status"] == "queued"
    drain_ingest()
    shown = admin("GET", kb_path("acme", "big") + f"/documents/{document['id']}")
    assert shown.body["status"] == "ready", shown.body
    assert shown.body["chunk_count"] > 5

    # The same content again needs no upload
    again = admin("POST", kb_path("acme", "big") + "/documents/upload-url", request)
    assert again.status == 200
    assert again.body["upload"] is None
    assert again.body["document"]["id"] == document["id"]


def test_deleting_a_document_removes_its_vectors_and_its_file(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain
) -> None:
    kb = admin("POST", kb_path("acme"), {"name": "temp"}).body
    doc = upload_text(admin, "acme", "temp", "Returns", RETURNS).body
    keep = upload_text(admin, "acme", "temp", "Other", "Warranty is 12 months.").body
    drain_ingest()
    assert _vectors(stack, "acme", kb["id"], doc["id"]) >= 1
    key = f"tenant/acme/kb/{kb['id']}/{doc['id']}"

    deleted = admin("DELETE", kb_path("acme", "temp") + f"/documents/{doc['id']}")
    assert deleted.status == 200, deleted.body

    assert _vectors(stack, "acme", kb["id"], doc["id"]) == 0
    assert _vectors(stack, "acme", kb["id"], keep["id"]) >= 1
    listing = stack.bucket.client.list_objects_v2(Bucket=stack.bucket.name, Prefix=key)
    assert listing.get("KeyCount", 0) == 0
    assert admin("GET", kb_path("acme", "temp") + f"/documents/{doc['id']}").status == 404
    actions = [r.action for r in audit_rows(AuditLog.entity_type == "knowledge_document")]
    assert "knowledge_document.delete" in actions

    # Deleting the knowledge base removes the rest: vectors and files
    assert admin("DELETE", kb_path("acme", "temp")).status == 200
    assert _vectors(stack, "acme", kb["id"], keep["id"]) == 0
    prefix = f"tenant/acme/kb/{kb['id']}/"
    listing = stack.bucket.client.list_objects_v2(Bucket=stack.bucket.name, Prefix=prefix)
    assert listing.get("KeyCount", 0) == 0
