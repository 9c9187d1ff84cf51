"""US6 end to end over HTTP: an admin uploads a policy, it is indexed, and a chat answers from it
with a citation; another tenant never sees it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.admin_support import TENANT_ADMIN, Admin
from tests.integration.knowledge_support import (
    Drain,
    KnowledgeStack,
    ensure_analysis_agent,
    kb_path,
    upload_text,
)
from tests.support.lambda_events import HttpResult

pytest_plugins = [
    "tests.integration.chat_fixtures",
    "tests.integration.admin_fixtures",
    "tests.integration.knowledge_fixtures",
]

Chat = Callable[..., HttpResult]
ACME_POLICY = (
    "ACME payment terms: every invoice is due within 21 days. Customers paying within "
    "5 days receive a 3% discount. Overdue amounts accrue 2% interest per month."
)


@pytest.fixture
def stack(seeded: None, knowledge_stack: KnowledgeStack) -> KnowledgeStack:
    ensure_analysis_agent()
    return knowledge_stack


def test_an_uploaded_policy_becomes_ready_and_answers_with_a_citation(
    stack: KnowledgeStack, admin: Admin, drain_ingest: Drain, chat: Chat
) -> None:
    # GIVEN a tenant admin of acme uploads a policy to acme's knowledge base
    created = upload_text(
        admin, "acme", "policies", "Payment terms 2026", ACME_POLICY, roles=TENANT_ADMIN
    )
    assert created.status == 202, created.body
    assert created.body["status"] == "queued"
    assert created.body["ingestion"] == "queued"
    document_id = created.body["id"]

    # WHEN the ingest function consumes the queue
    drain_ingest()

    # THEN the document is ready, with its chunks counted
    shown = admin("GET", kb_path("acme", "policies") + f"/documents/{document_id}")
    assert shown.status == 200
    assert shown.body["status"] == "ready", shown.body
    assert shown.body["chunk_count"] >= 1
    assert shown.body["size_bytes"] == len(ACME_POLICY.encode())

    # AND an acme user's question is answered from it, with a citation
    answer = chat("What are our payment terms?", tenant="acme")
    assert answer.status == 200, answer.body
    assert answer.body["agent"] == "analysis"
    assert "21 days" in answer.body["text"]
    citations = answer.body["citations"]
    assert citations and citations[0]["document_id"] == document_id
    assert citations[0]["title"] == "Payment terms 2026"
    assert 0 < citations[0]["score"] <= 1
    assert "21 days" in citations[0]["snippet"]

    # AND the stored message keeps the citations
    session = answer.body["session_id"]
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Message

    with get_sessionmaker()() as db:
        stored = db.query(Message).filter(Message.session_id == session).all()
    cited = [m.citations for m in stored if m.citations]
    assert cited and cited[0][0]["document_id"] == document_id

    # AND globex asking the same question never sees acme's text
    other = chat("What are our payment terms?", tenant="globex", user="bob")
    assert other.status == 200, other.body
    assert "21 days" not in other.body["text"]
    assert all(c["document_id"] != document_id for c in other.body["citations"])
