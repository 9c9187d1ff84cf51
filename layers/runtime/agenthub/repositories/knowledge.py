"""Knowledge bases and their documents; every query filters on `tenant_id`."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from agenthub.db.models import DocumentStatus, KnowledgeBase, KnowledgeDocument
from agenthub.errors import NotFoundError
from agenthub.repositories.common import apply_changes, check_version, guarded_write

KB_CHANGEABLE = frozenset(
    {
        "name",
        "description",
        "embedding_provider",
        "embedding_model",
        "embedding_dimension",
        "chunk_size",
        "chunk_overlap",
    }
)


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class KnowledgeBaseRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def list(self, *, tenant_id: str) -> builtins.list[KnowledgeBase]:
        statement = (
            select(KnowledgeBase)
            .where(KnowledgeBase.tenant_id == tenant_id)
            .order_by(KnowledgeBase.name)
        )
        return builtins.list(self.db.scalars(statement))

    def get(self, *, tenant_id: str, ref: str, lock: bool = False) -> KnowledgeBase | None:
        """By id or by name, inside the tenant only."""
        as_id = _as_uuid(ref)
        statement = select(KnowledgeBase).where(KnowledgeBase.tenant_id == tenant_id)
        if as_id is not None:
            statement = statement.where(KnowledgeBase.id == as_id)
        else:
            statement = statement.where(KnowledgeBase.name == ref)
        if lock:
            statement = statement.with_for_update()
        return self.db.scalars(statement).one_or_none()

    def require(self, *, tenant_id: str, ref: str, lock: bool = False) -> KnowledgeBase:
        found = self.get(tenant_id=tenant_id, ref=ref, lock=lock)
        if found is None:
            raise NotFoundError(f"knowledge base {ref!r} not found")
        return found

    def create(self, *, tenant_id: str, **fields: Any) -> KnowledgeBase:
        kb = KnowledgeBase(tenant_id=tenant_id, **fields)
        with guarded_write(
            self.db,
            what=f"knowledge base {fields.get('name')!r}",
            conflict=f"a knowledge base named {fields.get('name')!r} already exists",
        ):
            self.db.add(kb)
        return kb

    def update(
        self, *, tenant_id: str, ref: str, expected_version: int, changes: Mapping[str, Any]
    ) -> KnowledgeBase:
        kb = self.require(tenant_id=tenant_id, ref=ref, lock=True)
        what = f"knowledge base {kb.name!r}"
        check_version(actual=kb.version, expected=expected_version, what=what)
        with guarded_write(
            self.db, what=what, conflict=f"a knowledge base named {changes.get('name')!r} exists"
        ):
            apply_changes(kb, changes, allowed=KB_CHANGEABLE, what=what)
        return kb

    def delete(self, *, tenant_id: str, kb_id: uuid.UUID) -> None:
        with guarded_write(self.db, what="knowledge base"):
            self.db.execute(
                delete(KnowledgeBase).where(
                    KnowledgeBase.tenant_id == tenant_id, KnowledgeBase.id == kb_id
                )
            )

    def document_counts(self, *, tenant_id: str) -> dict[uuid.UUID, int]:
        statement = (
            select(KnowledgeDocument.knowledge_base_id, func.count())
            .where(KnowledgeDocument.tenant_id == tenant_id)
            .group_by(KnowledgeDocument.knowledge_base_id)
        )
        return {kb_id: int(n) for kb_id, n in self.db.execute(statement)}


class KnowledgeDocumentRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def list(self, *, tenant_id: str, kb_id: uuid.UUID) -> builtins.list[KnowledgeDocument]:
        statement = (
            select(KnowledgeDocument)
            .where(
                KnowledgeDocument.tenant_id == tenant_id,
                KnowledgeDocument.knowledge_base_id == kb_id,
            )
            .order_by(KnowledgeDocument.created_at, KnowledgeDocument.id)
        )
        return builtins.list(self.db.scalars(statement))

    def get(
        self,
        *,
        tenant_id: str,
        document_id: uuid.UUID,
        kb_id: uuid.UUID | None = None,
        lock: bool = False,
    ) -> KnowledgeDocument | None:
        statement = select(KnowledgeDocument).where(
            KnowledgeDocument.tenant_id == tenant_id, KnowledgeDocument.id == document_id
        )
        if kb_id is not None:
            statement = statement.where(KnowledgeDocument.knowledge_base_id == kb_id)
        if lock:
            statement = statement.with_for_update()
        return self.db.scalars(statement).one_or_none()

    def require(
        self,
        *,
        tenant_id: str,
        document_id: uuid.UUID,
        kb_id: uuid.UUID | None = None,
        lock: bool = False,
    ) -> KnowledgeDocument:
        found = self.get(tenant_id=tenant_id, document_id=document_id, kb_id=kb_id, lock=lock)
        if found is None:
            raise NotFoundError("document not found")
        return found

    def by_checksum(
        self, *, tenant_id: str, kb_id: uuid.UUID, checksum: str, lock: bool = False
    ) -> KnowledgeDocument | None:
        statement = select(KnowledgeDocument).where(
            KnowledgeDocument.tenant_id == tenant_id,
            KnowledgeDocument.knowledge_base_id == kb_id,
            KnowledgeDocument.checksum == checksum,
        )
        if lock:
            statement = statement.with_for_update()
        return self.db.scalars(statement).one_or_none()

    def create(self, *, tenant_id: str, kb_id: uuid.UUID, **fields: Any) -> KnowledgeDocument:
        document = KnowledgeDocument(tenant_id=tenant_id, knowledge_base_id=kb_id, **fields)
        with guarded_write(
            self.db, what="document", conflict="this content is already in the knowledge base"
        ):
            self.db.add(document)
        return document

    def set_status(
        self,
        document: KnowledgeDocument,
        status: DocumentStatus,
        *,
        reason: str | None = None,
        chunk_count: int | None = None,
    ) -> None:
        document.status = status
        document.failure_reason = reason
        if chunk_count is not None:
            document.chunk_count = chunk_count
        if status is DocumentStatus.INDEXING:
            document.attempts += 1
        if status is DocumentStatus.READY:
            document.indexed_at = datetime.now(UTC)
        self.db.flush()

    def delete(self, *, tenant_id: str, document_id: uuid.UUID) -> None:
        self.db.execute(
            delete(KnowledgeDocument).where(
                KnowledgeDocument.tenant_id == tenant_id, KnowledgeDocument.id == document_id
            )
        )

    def count(self, *, tenant_id: str, kb_id: uuid.UUID) -> int:
        statement = select(func.count()).where(
            KnowledgeDocument.tenant_id == tenant_id,
            KnowledgeDocument.knowledge_base_id == kb_id,
        )
        return int(self.db.scalar(statement) or 0)
