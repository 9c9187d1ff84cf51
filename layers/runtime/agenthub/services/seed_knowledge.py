"""Demo knowledge (`agenthub seed demo`): the `search_company_policies` RAG tool, a `policies`
knowledge base per demo tenant, and 23 short policies in each (7 in Vietnamese).

`seed_knowledge` creates what is missing and leaves alone what an admin changed. It assigns the
tool to the `analysis` agent when that agent exists (its seed creates it). The documents need S3,
Chroma and an embedder: `index_demo_documents` adds the missing ones and indexes them at once
(the local stack calls it once Chroma is up; the benches and tests too).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.engine import transaction
from agenthub.db.models import DocumentStatus, ToolType
from agenthub.knowledge.embeddings import LOCAL_MODEL
from agenthub.knowledge.ingest import Ingestor
from agenthub.knowledge.queue import IngestMessage
from agenthub.repositories import (
    AgentConfigRepository,
    BaseToolRepository,
    PermissionRepository,
    TenantRepository,
    ToolConfigRepository,
)
from agenthub.repositories.knowledge import KnowledgeBaseRepository, KnowledgeDocumentRepository
from agenthub.services.seed_knowledge_docs import FACTS, demo_documents
from agenthub.storage.objects import ObjectStore, tenant_key

POLICY_TOOL = "search_company_policies"
POLICY_KB = "policies"
ANALYSIS_AGENT = "analysis"
POLICY_TOOL_PRIORITY = 3
POLICY_TOOL_DESCRIPTION = (
    "Search the company's policies in the knowledge base: payment terms, returns and refunds, "
    "VAT invoices, shipping times and fees, warranty, support hours, discounts "
    "(chính sách, điều khoản thanh toán, đổi trả, hóa đơn, giao hàng, bảo hành)"
)
POLICY_TOOL_SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "what to look up in the company's policies"}
    },
    "required": ["query"],
}
POLICY_TOOL_CONFIG = {"knowledge_base": POLICY_KB, "top_k": 4, "min_score": 0.3}


@dataclass(frozen=True)
class KnowledgeSeedReport:
    tool_created: bool
    knowledge_bases_created: int
    assigned_to_analysis: bool


def seed_knowledge(db: Session, *, tenant_ids: Sequence[str] = tuple(FACTS)) -> KnowledgeSeedReport:
    tools = ToolConfigRepository(db)
    tool = tools.get_by_name(POLICY_TOOL)
    created = tool is None
    if tool is None:
        base_tool = BaseToolRepository(db).get_by_type(ToolType.RAG)
        if base_tool is None:
            base_tool = BaseToolRepository(db).upsert(
                type=ToolType.RAG, description="Knowledge base search (ChromaDB)", config_schema={}
            )
        tool = tools.create(
            name=POLICY_TOOL,
            base_tool_id=base_tool.id,
            description=POLICY_TOOL_DESCRIPTION,
            input_schema=POLICY_TOOL_SCHEMA,
            config=POLICY_TOOL_CONFIG,
            is_active=True,
        )
    bases = KnowledgeBaseRepository(db)
    permissions = PermissionRepository(db)
    tenants = TenantRepository(db)
    kb_created = 0
    for tenant_id in tenant_ids:
        if tenants.get(tenant_id) is None:
            continue
        changed = created
        if bases.get(tenant_id=tenant_id, ref=POLICY_KB) is None:
            changed = True
            bases.create(
                tenant_id=tenant_id,
                name=POLICY_KB,
                description="Company policies (demo): payment, returns, invoices, shipping",
                embedding_provider=LOCAL_MODEL.provider,
                embedding_model=LOCAL_MODEL.model,
                embedding_dimension=LOCAL_MODEL.dimension,
            )
            kb_created += 1
        granted = {p.tool_id for p in permissions.list_tool_permissions(tenant_id=tenant_id)}
        if tool.id not in granted:
            changed = True
            permissions.set_tool(tenant_id=tenant_id, tool_id=tool.id, enabled=True)
        if changed:  # a re-seed that adds nothing leaves the cached config alone
            tenants.bump_config_version(tenant_id=tenant_id)
    assigned = False
    agents = AgentConfigRepository(db)
    analysis = agents.get_by_name(ANALYSIS_AGENT)
    if analysis is not None:
        current = {t.id for t, _ in agents.list_tools(agent_id=analysis.id)}
        if tool.id not in current:
            agents.assign_tool(agent_id=analysis.id, tool_id=tool.id, priority=POLICY_TOOL_PRIORITY)
            assigned = True
    return KnowledgeSeedReport(
        tool_created=created, knowledge_bases_created=kb_created, assigned_to_analysis=assigned
    )


def index_demo_documents(
    *,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    ingestor: Ingestor,
    tenant_ids: Sequence[str] = tuple(FACTS),
) -> int:
    """Add the demo documents missing from each tenant's `policies` and index them now (no
    queue: benches and tests); the number indexed."""

    def index(message: IngestMessage) -> None:
        ingestor.ingest(message)

    return queue_demo_documents(
        sessions=sessions, store=store, enqueue=index, tenant_ids=tenant_ids
    )


def queue_demo_documents(
    *,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    enqueue: Callable[[IngestMessage], object],
    tenant_ids: Sequence[str] = tuple(FACTS),
) -> int:
    """Add the demo documents missing from each tenant's `policies` (originals to S3, rows
    `queued`) and hand each to `enqueue` (the ingestion queue, or the ingestor itself)."""
    count = 0
    for tenant_id in tenant_ids:
        queued: list[uuid.UUID] = []
        with transaction(sessions) as db:
            kb = KnowledgeBaseRepository(db).get(tenant_id=tenant_id, ref=POLICY_KB)
            if kb is None:
                continue
            documents = KnowledgeDocumentRepository(db)
            for demo in demo_documents(tenant_id):
                body = demo.text.encode("utf-8")
                checksum = hashlib.sha256(body).hexdigest()
                existing = documents.by_checksum(
                    tenant_id=tenant_id, kb_id=kb.id, checksum=checksum
                )
                # Not ready (e.g. queued in a local run whose in-memory queue is gone): again.
                if existing is not None and existing.status is DocumentStatus.READY:
                    continue
                if existing is None:
                    document_id = uuid.uuid4()
                    key = tenant_key(tenant_id, "kb", str(kb.id), str(document_id))
                    documents.create(
                        tenant_id=tenant_id,
                        kb_id=kb.id,
                        id=document_id,
                        title=demo.title,
                        filename=f"{demo.slug}.txt",
                        content_type="text/plain",
                        size_bytes=len(body),
                        checksum=checksum,
                        storage_key=key,
                        status=DocumentStatus.QUEUED,
                    )
                    store.put(tenant_id=tenant_id, key=key, body=body, content_type="text/plain")
                    queued.append(document_id)
                else:
                    documents.set_status(existing, DocumentStatus.QUEUED)
                    queued.append(existing.id)
        for document_id in queued:
            enqueue(IngestMessage(tenant_id, document_id))
            count += 1
    return count
