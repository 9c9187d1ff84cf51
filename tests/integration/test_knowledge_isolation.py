"""Tenant isolation of knowledge: 200 chat turns over two tenants with the same kind of policies
(same titles, different numbers) never cite or quote the other tenant's documents."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from tests.integration.knowledge_support import KnowledgeStack, ensure_analysis_agent
from tests.support.lambda_events import HttpResult

pytest_plugins = [
    "tests.integration.chat_fixtures",
    "tests.integration.admin_fixtures",
    "tests.integration.knowledge_fixtures",
]

QUESTIONS = (
    "What are our payment terms?",
    "How many days do customers have to return goods?",
    "What is the warranty period?",
    "When do we issue VAT invoices?",
    "What are the customer support hours?",
    "Điều khoản thanh toán là gì?",
    "Chính sách đổi trả hàng như thế nào?",
    "Bảo hành bao lâu?",
    "What are the shipping fees policy rules?",
    "Which payment methods are accepted for invoices?",
)


@pytest.fixture
def indexed(seeded: None, knowledge_stack: KnowledgeStack) -> dict[str, set[str]]:
    """Both demo tenants' `policies`, indexed: tenant -> its document ids."""
    from agenthub import composition
    from agenthub.db.models import KnowledgeDocument, Tenant
    from agenthub.services.seed_knowledge import index_demo_documents

    ensure_analysis_agent()
    indexed = index_demo_documents(
        sessions=composition.get_sessionmaker(),
        store=composition.get_object_store(),
        ingestor=composition.get_ingestor(),
    )
    assert indexed == 46
    with composition.get_sessionmaker()() as db, db.begin():
        rows = db.query(KnowledgeDocument.tenant_id, KnowledgeDocument.id).all()
        # 200 turns in a minute or two: above the demo tenants' rate limit.
        for tenant in db.query(Tenant).filter(Tenant.id.in_(["acme", "globex"])):
            tenant.rate_limit_per_minute = 10_000
            tenant.config_version += 1
    owned: dict[str, set[str]] = {"acme": set(), "globex": set()}
    for tenant_id, document_id in rows:
        owned[tenant_id].add(str(document_id))
    return owned


def test_200_cross_tenant_queries_find_no_foreign_chunk(
    indexed: dict[str, set[str]], chat: Callable[..., HttpResult]
) -> None:
    foreign: list[tuple[str, str, str]] = []
    cited_turns = 0
    agents: dict[str, set[str]] = {}
    marks = {"acme": "ACME Trading", "globex": "Globex Logistics"}
    # 10 questions x 2 tenants, 10 times: 200 turns
    pairs = list(itertools.product(QUESTIONS, ("acme", "globex"))) * 10
    assert len(pairs) == 200
    for question, tenant in pairs:
        other = "globex" if tenant == "acme" else "acme"
        answer = chat(question, tenant=tenant, user=f"user-{tenant}")
        assert answer.status == 200, answer.body
        citations = answer.body["citations"]
        cited_turns += bool(citations)
        agents.setdefault(question, set()).add(answer.body["agent"])
        for citation in citations:
            if citation["document_id"] not in indexed[tenant]:
                foreign.append((tenant, question, citation["document_id"]))
        if marks[other] in answer.body["text"]:
            foreign.append((tenant, question, "text"))
    assert foreign == []
    # The test only means something if the knowledge base answered most turns.
    assert cited_turns >= 160, (cited_turns, agents)
