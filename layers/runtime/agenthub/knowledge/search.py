"""What the RAG tool runs: a tenant's knowledge base, looked up by name *in that tenant*, then
the nearest chunks of its Chroma collection (in the tenant's own Chroma database)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.models import KnowledgeBase
from agenthub.errors import NotFoundError
from agenthub.knowledge.chroma import ChromaClient, MetadataValue
from agenthub.knowledge.embeddings import Embedder, EmbeddingModel
from agenthub.repositories.knowledge import KnowledgeBaseRepository

# Metadata a RAG tool's `filters` may name (equality, or a list for "one of").
FILTERABLE = frozenset({"document_id", "title", "content_type"})


class EmbedderFactory(Protocol):
    def __call__(self, *, tenant_id: str, model: EmbeddingModel) -> Embedder: ...


def collection_name(kb_id: uuid.UUID) -> str:
    """The Chroma collection of a knowledge base: its id (names can be renamed; ids cannot)."""
    return f"kb-{kb_id.hex}"


def model_of(kb: KnowledgeBase) -> EmbeddingModel:
    return EmbeddingModel(
        kb.embedding_provider,  # type: ignore[arg-type]
        kb.embedding_model,
        kb.embedding_dimension,
    )


@dataclass(frozen=True)
class KnowledgeHit:
    document_id: str
    title: str
    text: str
    score: float
    chunk: int


def where_clause(
    tenant_id: str, filters: Mapping[str, MetadataValue | Sequence[MetadataValue]] | None
) -> dict[str, Any]:
    """Chroma `where`: the tenant always (defence in depth), plus the tool's filters."""
    conditions: list[dict[str, Any]] = [{"tenant_id": tenant_id}]
    for key, value in (filters or {}).items():
        if key not in FILTERABLE:
            raise ValueError(f"cannot filter on {key!r}")
        if isinstance(value, list | tuple):
            conditions.append({key: {"$in": list(value)}})
        else:
            conditions.append({key: value})
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


class KnowledgeSearch:
    def __init__(
        self, *, sessions: sessionmaker[Session], chroma: ChromaClient, embedders: EmbedderFactory
    ) -> None:
        self._sessions = sessions
        self._chroma = chroma
        self._embedders = embedders

    def search(
        self,
        *,
        tenant_id: str,
        knowledge_base: str,
        query: str,
        top_k: int,
        min_score: float = 0.0,
        filters: Mapping[str, Any] | None = None,
    ) -> list[KnowledgeHit]:
        """The best chunks, best first; NotFoundError when the tenant has no such knowledge base."""
        with self._sessions() as db:
            kb = KnowledgeBaseRepository(db).get(tenant_id=tenant_id, ref=knowledge_base)
            if kb is None:
                raise NotFoundError(f"this organisation has no knowledge base {knowledge_base!r}")
            kb_id, model = kb.id, model_of(kb)
        vector = self._embedders(tenant_id=tenant_id, model=model).embed_query(query)
        hits = self._chroma.query(
            tenant_id,
            collection_name(kb_id),
            vector,
            n_results=top_k,
            where=where_clause(tenant_id, filters),
        )
        found = [
            KnowledgeHit(
                document_id=str(h.metadata.get("document_id", "")),
                title=str(h.metadata.get("title", "")),
                text=h.text,
                score=round(h.score, 4),
                chunk=int(h.metadata.get("chunk", 0) or 0),
            )
            for h in hits
            # Defence in depth: a record of another tenant would be a bug upstream; never show it.
            if h.metadata.get("tenant_id") == tenant_id
        ]
        return [h for h in found if h.score >= min_score]
