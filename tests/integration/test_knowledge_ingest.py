"""The ingest function on its SQS queue: partial batch failures, a poison document fails alone,
retries then the DLQ; a document deleted while queued is skipped."""

from __future__ import annotations

import base64
import json

import pytest

from tests.integration.admin_support import Admin
from tests.integration.knowledge_support import Drain, KnowledgeStack, kb_path, upload_text

pytest_plugins = [
    "tests.integration.chat_fixtures",
    "tests.integration.admin_fixtures",
    "tests.integration.knowledge_fixtures",
]


@pytest.fixture
def stack(admin_seeded: None, knowledge_stack: KnowledgeStack) -> KnowledgeStack:
    return knowledge_stack


def _statuses(admin: Admin, kb: str) -> dict[str, dict[str, object]]:
    items = admin("GET", kb_path("acme", kb) + "/documents").body["items"]
    return {d["title"]: d for d in items}


def test_a_poison_document_fails_alone_and_reaches_the_dlq_after_retries(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain
) -> None:
    # GIVEN two good documents and one whose bytes say PDF but cannot be read, in one batch
    assert admin("POST", kb_path("acme"), {"name": "batch"}).status == 201
    assert upload_text(admin, "acme", "batch", "Returns", "Returns within 14 days.").status == 202
    poison = admin(
        "POST",
        kb_path("acme", "batch") + "/documents",
        {
            "title": "Broken",
            "content_base64": base64.b64encode(b"%PDF-1.7\n\x00\x01 broken").decode(),
            "content_type": "application/pdf",
        },
    )
    assert poison.status == 202, poison.body
    assert upload_text(admin, "acme", "batch", "Warranty", "Warranty: 12 months.").status == 202

    # WHEN the ingest function consumes the queue (retrying what it reports as failed)
    outcomes = drain_ingest()

    # THEN the first batch had all three, and only the poison one failed
    assert outcomes[0].received == 3
    assert len(outcomes[0].failed_ids) == 1
    documents = _statuses(admin, "batch")
    assert documents["Returns"]["status"] == "ready"
    assert documents["Warranty"]["status"] == "ready"
    assert documents["Broken"]["status"] == "failed"
    assert "PDF cannot be read" in str(documents["Broken"]["failure_reason"])
    # AND after its retries the poison message is in the DLQ, the queue is empty
    assert stack.queued() == 0
    dead = stack.sqs.receive_message(QueueUrl=stack.dlq_url, MaxNumberOfMessages=10)
    bodies = [json.loads(m["Body"]) for m in dead.get("Messages", [])]
    assert bodies == [{"tenant_id": "acme", "document_id": poison.body["id"]}]


def test_a_malformed_message_fails_alone(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain
) -> None:
    assert admin("POST", kb_path("acme"), {"name": "mixed-batch"}).status == 201
    stack.sqs.send_message(QueueUrl=stack.ingest_url, MessageBody='{"tenant_id": "../etc"}')
    assert upload_text(admin, "acme", "mixed-batch", "Fine", "All good here.").status == 202

    outcomes = drain_ingest()

    assert sum(len(o.failed_ids) for o in outcomes[:1]) == 1
    assert _statuses(admin, "mixed-batch")["Fine"]["status"] == "ready"


def test_a_document_deleted_while_queued_is_skipped(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain
) -> None:
    assert admin("POST", kb_path("acme"), {"name": "gone"}).status == 201
    created = upload_text(admin, "acme", "gone", "Temp", "Temporary text.")
    assert (
        admin("DELETE", kb_path("acme", "gone") + f"/documents/{created.body['id']}").status == 200
    )

    outcomes = drain_ingest()

    assert outcomes and outcomes[0].failed_ids == ()
    assert stack.queued() == 0
    assert admin("GET", kb_path("acme", "gone") + "/documents").body["items"] == []


def test_an_unreachable_ingestion_queue_marks_the_document_failed_and_a_new_upload_retries(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agenthub import composition

    assert admin("POST", kb_path("acme"), {"name": "offline-queue"}).status == 201
    monkeypatch.setenv("AGENTHUB_AWS__INGEST_QUEUE_URL", stack.ingest_url + "-missing")
    composition.reset()
    first = upload_text(admin, "acme", "offline-queue", "Returns", "Returns within 14 days.")
    assert first.status == 202
    assert first.body["ingestion"] == "pending"
    assert first.body["status"] == "failed"
    assert "upload the same file again" in first.body["failure_reason"]

    monkeypatch.setenv("AGENTHUB_AWS__INGEST_QUEUE_URL", stack.ingest_url)
    composition.reset()
    again = upload_text(admin, "acme", "offline-queue", "Returns", "Returns within 14 days.")
    assert again.status == 202
    assert again.body["id"] == first.body["id"]
    assert again.body["ingestion"] == "queued"
    drain_ingest()
    assert _statuses(admin, "offline-queue")["Returns"]["status"] == "ready"


def test_a_scanned_policy_image_is_read_by_ocr_and_indexed(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain
) -> None:
    # GIVEN a policy that exists only as a picture (no text layer), drawn like a scan
    from tests.integration.knowledge_support import upload_bytes
    from tests.support.documents import draw_page, png_bytes

    scan = png_bytes(draw_page(("WARRANTY POLICY", "All machines carry a 24 month warranty.")))
    assert admin("POST", kb_path("acme"), {"name": "scans"}).status == 201
    uploaded = upload_bytes(admin, "acme", "scans", "Warranty (scan)", scan, "image/png")
    assert uploaded.status == 202, uploaded.body

    # WHEN the ingest function consumes the queue
    drain_ingest()

    # THEN the same OCR that reads chat attachments gave it text, and it was indexed
    document = _statuses(admin, "scans")["Warranty (scan)"]
    assert document["status"] == "ready", document.get("failure_reason")
    assert int(str(document["chunk_count"])) >= 1
    from agenthub import composition

    hits = composition.get_knowledge_search().search(
        tenant_id="acme", knowledge_base="scans", query="warranty months", top_k=1
    )
    assert hits and "24 month" in hits[0].text
