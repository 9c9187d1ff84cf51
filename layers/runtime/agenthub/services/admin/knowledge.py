"""Knowledge bases and their documents (a tenant's own admins, or a platform admin).

Every change is audited and moves the tenant's config version in its transaction, and a reload
goes out after the commit, like every admin change. Documents:

- direct upload (<= 5 MB): the original goes to S3 under `tenant/{id}/kb/{kb id}/{doc id}`, the
  row is `queued`, and after the commit a message goes to the ingestion queue;
- large files (<= 50 MB): `presign_upload` makes the row (`uploading`, with the sha256 the client
  declares) and a presigned PUT; the client PUTs the file, then calls `complete_upload`, which
  checks the object is there with the declared size and queues it. The ingest function checks
  the content against the declared sha256 before indexing it.

The same content (sha256) again in the same knowledge base is a no-op that returns the existing
document; if that document had failed, it is queued again. Deleting a document removes its
vectors, its file and its row; deleting a knowledge base removes its collection and files.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from agenthub.db.models import DocumentStatus, KnowledgeBase, KnowledgeDocument
from agenthub.documents.extract import (
    IMAGE_TYPES,
    SUPPORTED_TYPES,
    ExtractionError,
    check_type,
)
from agenthub.errors import ConflictError, PayloadTooLargeError
from agenthub.knowledge.chroma import ChromaClient
from agenthub.knowledge.embeddings import resolve_model
from agenthub.knowledge.ingest import MAX_DOCUMENT_BYTES
from agenthub.knowledge.queue import IngestMessage, IngestStatus, SqsIngestPublisher
from agenthub.knowledge.search import collection_name
from agenthub.repositories import TenantRepository
from agenthub.repositories.knowledge import KnowledgeBaseRepository, KnowledgeDocumentRepository
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.audit import Snapshot, record_change
from agenthub.services.admin.changes import Changed, ChangeRunner, Outcome
from agenthub.services.admin.inputs import invalid, require_version
from agenthub.storage.objects import ObjectStore, PresignedPut, tenant_key

MAX_DIRECT_BYTES = 5 * 1024 * 1024
EMBEDDING_FIELDS = frozenset({"embedding_provider", "embedding_model"})


@dataclass(frozen=True)
class KnowledgeBaseView:
    kb: KnowledgeBase
    document_count: int

    def snapshot(self) -> Snapshot:
        kb = self.kb
        return {
            "id": kb.id,
            "name": kb.name,
            "description": kb.description,
            "embedding_provider": kb.embedding_provider,
            "embedding_model": kb.embedding_model,
            "embedding_dimension": kb.embedding_dimension,
            "chunk_size": kb.chunk_size,
            "chunk_overlap": kb.chunk_overlap,
            "version": kb.version,
        }


@dataclass(frozen=True)
class DocumentUpload:
    title: str
    content_type: str
    data: bytes
    filename: str | None = None


@dataclass(frozen=True)
class UploadRequest:
    title: str
    content_type: str
    size: int
    sha256: str
    filename: str | None = None


@dataclass(frozen=True)
class DocumentChange:
    document: KnowledgeDocument
    created: bool
    ingestion: IngestStatus | Literal["none"]


@dataclass(frozen=True)
class UploadGrant:
    document: KnowledgeDocument
    created: bool
    upload: PresignedPut | None


def document_snapshot(document: KnowledgeDocument) -> Snapshot:
    return {
        "id": document.id,
        "knowledge_base_id": document.knowledge_base_id,
        "title": document.title,
        "filename": document.filename,
        "content_type": document.content_type,
        "size_bytes": document.size_bytes,
        "checksum": document.checksum,
        "status": document.status.value,
    }


class KnowledgeAdmin:
    def __init__(
        self,
        runner: ChangeRunner,
        *,
        store: Callable[[], ObjectStore],
        chroma: Callable[[], ChromaClient],
        publisher: Callable[[], SqsIngestPublisher],
    ) -> None:
        self._runner = runner
        self._store = store
        self._chroma = chroma
        self._publisher = publisher

    # ------------------------------------------------------------------ knowledge bases

    def list_bases(self, actor: Actor, *, tenant_id: str) -> list[KnowledgeBaseView]:
        actor.require_tenant(tenant_id)

        def work(db: Session) -> list[KnowledgeBaseView]:
            TenantRepository(db).require(tenant_id)
            bases = KnowledgeBaseRepository(db)
            counts = bases.document_counts(tenant_id=tenant_id)
            return [
                KnowledgeBaseView(kb, counts.get(kb.id, 0))
                for kb in bases.list(tenant_id=tenant_id)
            ]

        return self._runner.read(work)

    def get_base(self, actor: Actor, *, tenant_id: str, ref: str) -> KnowledgeBaseView:
        actor.require_tenant(tenant_id)
        return self._runner.read(lambda db: _base_view(db, tenant_id, ref))

    def create_base(
        self, actor: Actor, *, tenant_id: str, fields: Mapping[str, Any]
    ) -> Changed[KnowledgeBaseView]:
        actor.require_tenant(tenant_id)
        values = dict(fields)
        model = resolve_model(
            values.pop("embedding_provider", "local"), values.pop("embedding_model", None)
        )
        _check_chunking(values.get("chunk_size", 800), values.get("chunk_overlap", 120))

        def work(db: Session) -> Outcome[KnowledgeBaseView]:
            TenantRepository(db).require(tenant_id)
            kb = KnowledgeBaseRepository(db).create(
                tenant_id=tenant_id,
                embedding_provider=model.provider,
                embedding_model=model.model,
                embedding_dimension=model.dimension,
                **values,
            )
            view = KnowledgeBaseView(kb, 0)
            _audit(db, actor, tenant_id, "knowledge_base.create", kb.id, None, view.snapshot())
            return Outcome(view, (tenant_id,))

        return self._runner.run(work, reason="knowledge base created")

    def update_base(
        self,
        actor: Actor,
        *,
        tenant_id: str,
        ref: str,
        expected_version: int | None,
        changes: Mapping[str, Any],
    ) -> Changed[KnowledgeBaseView]:
        actor.require_tenant(tenant_id)
        version = require_version(expected_version)
        values = dict(changes)

        def work(db: Session) -> Outcome[KnowledgeBaseView]:
            bases = KnowledgeBaseRepository(db)
            current = bases.require(tenant_id=tenant_id, ref=ref, lock=True)
            before = KnowledgeBaseView(current, 0).snapshot()
            count = KnowledgeDocumentRepository(db).count(tenant_id=tenant_id, kb_id=current.id)
            if EMBEDDING_FIELDS & values.keys():
                model = resolve_model(
                    values.pop("embedding_provider", current.embedding_provider),
                    values.pop("embedding_model", None),
                )
                changed = (model.provider, model.model) != (
                    current.embedding_provider,
                    current.embedding_model,
                )
                if changed and count:
                    raise ConflictError(
                        "the embedding model is fixed once a knowledge base has documents: "
                        "delete its documents first, or create another knowledge base"
                    )
                values.update(
                    embedding_provider=model.provider,
                    embedding_model=model.model,
                    embedding_dimension=model.dimension,
                )
            _check_chunking(
                values.get("chunk_size", current.chunk_size),
                values.get("chunk_overlap", current.chunk_overlap),
            )
            kb = bases.update(
                tenant_id=tenant_id, ref=ref, expected_version=version, changes=values
            )
            view = KnowledgeBaseView(kb, count)
            _audit(db, actor, tenant_id, "knowledge_base.update", kb.id, before, view.snapshot())
            return Outcome(view, (tenant_id,))

        return self._runner.run(work, reason="knowledge base changed")

    def delete_base(
        self, actor: Actor, *, tenant_id: str, ref: str, expected_version: int | None
    ) -> Changed[KnowledgeBaseView]:
        """Remove the knowledge base with its documents, vectors and files."""
        actor.require_tenant(tenant_id)

        def work(db: Session) -> Outcome[KnowledgeBaseView]:
            bases = KnowledgeBaseRepository(db)
            kb = bases.require(tenant_id=tenant_id, ref=ref, lock=True)
            if expected_version is not None and kb.version != expected_version:
                raise invalid("version", f"the knowledge base is at version {kb.version}")
            view = KnowledgeBaseView(
                kb, KnowledgeDocumentRepository(db).count(tenant_id=tenant_id, kb_id=kb.id)
            )
            snapshot = view.snapshot()
            bases.delete(tenant_id=tenant_id, kb_id=kb.id)
            _audit(db, actor, tenant_id, "knowledge_base.delete", kb.id, snapshot, None)
            # Outside stores last, inside the transaction: if they fail, nothing is deleted.
            self._chroma().delete_collection(tenant_id, collection_name(kb.id))
            self._store().delete_prefix(
                tenant_id=tenant_id, prefix=tenant_key(tenant_id, "kb", str(kb.id)) + "/"
            )
            return Outcome(view, (tenant_id,))

        return self._runner.run(work, reason="knowledge base deleted")

    # ------------------------------------------------------------------ documents

    def list_documents(self, actor: Actor, *, tenant_id: str, ref: str) -> list[KnowledgeDocument]:
        actor.require_tenant(tenant_id)

        def work(db: Session) -> list[KnowledgeDocument]:
            kb = KnowledgeBaseRepository(db).require(tenant_id=tenant_id, ref=ref)
            return KnowledgeDocumentRepository(db).list(tenant_id=tenant_id, kb_id=kb.id)

        return self._runner.read(work)

    def get_document(
        self, actor: Actor, *, tenant_id: str, ref: str, document_id: uuid.UUID
    ) -> KnowledgeDocument:
        actor.require_tenant(tenant_id)

        def work(db: Session) -> KnowledgeDocument:
            kb = KnowledgeBaseRepository(db).require(tenant_id=tenant_id, ref=ref)
            return KnowledgeDocumentRepository(db).require(
                tenant_id=tenant_id, document_id=document_id, kb_id=kb.id
            )

        return self._runner.read(work)

    def add_document(
        self, actor: Actor, *, tenant_id: str, ref: str, upload: DocumentUpload
    ) -> DocumentChange:
        actor.require_tenant(tenant_id)
        if len(upload.data) > MAX_DIRECT_BYTES:
            raise PayloadTooLargeError(
                f"a document posted to the API is at most {MAX_DIRECT_BYTES} bytes; "
                "use documents/upload-url for larger files"
            )
        if not upload.data:
            raise invalid("content", "the document is empty")
        try:
            content_type = check_type(upload.data, upload.content_type)
        except ExtractionError as exc:
            raise invalid("content_type", exc.reason) from exc
        title = _title(upload.title)
        checksum = hashlib.sha256(upload.data).hexdigest()

        def work(db: Session) -> Outcome[tuple[KnowledgeDocument, bool]]:
            kb = KnowledgeBaseRepository(db).require(tenant_id=tenant_id, ref=ref, lock=True)
            documents = KnowledgeDocumentRepository(db)
            existing = documents.by_checksum(
                tenant_id=tenant_id, kb_id=kb.id, checksum=checksum, lock=True
            )
            if existing is not None and existing.status is not DocumentStatus.FAILED:
                return Outcome((existing, False), ())
            if existing is not None:
                document = existing  # a failed upload of this content: try again
                documents.set_status(document, DocumentStatus.QUEUED)
                action = "knowledge_document.retry"
            else:
                document_id = uuid.uuid4()
                document = documents.create(
                    tenant_id=tenant_id,
                    kb_id=kb.id,
                    id=document_id,
                    title=title,
                    filename=upload.filename,
                    content_type=content_type,
                    size_bytes=len(upload.data),
                    checksum=checksum,
                    storage_key=tenant_key(tenant_id, "kb", str(kb.id), str(document_id)),
                    status=DocumentStatus.QUEUED,
                )
                action = "knowledge_document.create"
            self._store().put(
                tenant_id=tenant_id,
                key=document.storage_key,
                body=upload.data,
                content_type=content_type,
            )
            _audit(db, actor, tenant_id, action, document.id, None, document_snapshot(document))
            return Outcome((document, True), (tenant_id,))

        changed = self._runner.run(work, reason="knowledge document added")
        document, created = changed.value
        if not created:
            return DocumentChange(document, created=False, ingestion="none")
        return DocumentChange(document, created=True, ingestion=self._enqueue(tenant_id, document))

    def presign_upload(
        self, actor: Actor, *, tenant_id: str, ref: str, request: UploadRequest
    ) -> UploadGrant:
        actor.require_tenant(tenant_id)
        content_type = request.content_type.split(";", 1)[0].strip().lower()
        if content_type not in SUPPORTED_TYPES | IMAGE_TYPES:
            raise invalid(
                "content_type", "use text, Markdown, HTML, PDF or an image (PNG, JPEG, ...)"
            )
        if not 0 < request.size <= MAX_DOCUMENT_BYTES:
            raise invalid("size", f"between 1 and {MAX_DOCUMENT_BYTES} bytes")
        title = _title(request.title)
        checksum = request.sha256.lower()

        def work(db: Session) -> Outcome[tuple[KnowledgeDocument, bool]]:
            kb = KnowledgeBaseRepository(db).require(tenant_id=tenant_id, ref=ref, lock=True)
            documents = KnowledgeDocumentRepository(db)
            existing = documents.by_checksum(
                tenant_id=tenant_id, kb_id=kb.id, checksum=checksum, lock=True
            )
            if existing is not None and existing.status not in (
                DocumentStatus.FAILED,
                DocumentStatus.UPLOADING,
            ):
                return Outcome((existing, False), ())
            if existing is not None:
                existing.size_bytes = request.size
                existing.content_type = content_type
                documents.set_status(existing, DocumentStatus.UPLOADING)
                return Outcome((existing, True), ())
            document_id = uuid.uuid4()
            document = documents.create(
                tenant_id=tenant_id,
                kb_id=kb.id,
                id=document_id,
                title=title,
                filename=request.filename,
                content_type=content_type,
                size_bytes=request.size,
                checksum=checksum,
                storage_key=tenant_key(tenant_id, "kb", str(kb.id), str(document_id)),
                status=DocumentStatus.UPLOADING,
            )
            _audit(
                db,
                actor,
                tenant_id,
                "knowledge_document.upload_url",
                document.id,
                None,
                document_snapshot(document),
            )
            return Outcome((document, True), (tenant_id,))

        changed = self._runner.run(work, reason="knowledge document upload started")
        document, needs_upload = changed.value
        if not needs_upload:
            return UploadGrant(document, created=False, upload=None)
        grant = self._store().presign_put(
            tenant_id=tenant_id,
            key=document.storage_key,
            content_type=content_type,
            size=request.size,
        )
        return UploadGrant(document, created=True, upload=grant)

    def complete_upload(
        self, actor: Actor, *, tenant_id: str, ref: str, document_id: uuid.UUID
    ) -> DocumentChange:
        """The presigned upload is done: check the object and queue the document."""
        actor.require_tenant(tenant_id)

        def work(db: Session) -> Outcome[tuple[KnowledgeDocument, bool]]:
            kb = KnowledgeBaseRepository(db).require(tenant_id=tenant_id, ref=ref)
            documents = KnowledgeDocumentRepository(db)
            document = documents.require(
                tenant_id=tenant_id, document_id=document_id, kb_id=kb.id, lock=True
            )
            if document.status is not DocumentStatus.UPLOADING:
                return Outcome((document, False), ())
            head = self._store().head(tenant_id=tenant_id, key=document.storage_key)
            if head is None:
                raise ConflictError("the file has not been uploaded yet: PUT it to the upload URL")
            if head[0] != document.size_bytes:
                raise ConflictError(
                    f"the uploaded file has {head[0]} bytes, not the {document.size_bytes} declared"
                )
            documents.set_status(document, DocumentStatus.QUEUED)
            _audit(
                db,
                actor,
                tenant_id,
                "knowledge_document.complete",
                document.id,
                None,
                document_snapshot(document),
            )
            return Outcome((document, True), (tenant_id,))

        changed = self._runner.run(work, reason="knowledge document uploaded")
        document, queued = changed.value
        if not queued:
            return DocumentChange(document, created=False, ingestion="none")
        return DocumentChange(document, created=True, ingestion=self._enqueue(tenant_id, document))

    def delete_document(
        self, actor: Actor, *, tenant_id: str, ref: str, document_id: uuid.UUID
    ) -> KnowledgeDocument:
        """Remove the document's vectors, file and row (all, or nothing if a store fails)."""
        actor.require_tenant(tenant_id)

        def work(db: Session) -> Outcome[KnowledgeDocument]:
            kb = KnowledgeBaseRepository(db).require(tenant_id=tenant_id, ref=ref)
            documents = KnowledgeDocumentRepository(db)
            document = documents.require(
                tenant_id=tenant_id, document_id=document_id, kb_id=kb.id, lock=True
            )
            snapshot = document_snapshot(document)
            documents.delete(tenant_id=tenant_id, document_id=document.id)
            _audit(db, actor, tenant_id, "knowledge_document.delete", document.id, snapshot, None)
            self._chroma().delete_where(
                tenant_id, collection_name(kb.id), {"document_id": str(document.id)}
            )
            self._store().delete(tenant_id=tenant_id, key=document.storage_key)
            return Outcome(document, (tenant_id,))

        return self._runner.run(work, reason="knowledge document deleted").value

    def _enqueue(self, tenant_id: str, document: KnowledgeDocument) -> IngestStatus:
        status = self._publisher().publish(IngestMessage(tenant_id, document.id))
        if status == "pending":
            # Nobody will pick it up: say so on the document; the same upload again retries.
            reason = "the ingestion queue could not be reached; upload the same file again"

            def fail(db: Session) -> None:
                documents = KnowledgeDocumentRepository(db)
                row = documents.get(tenant_id=tenant_id, document_id=document.id, lock=True)
                if row is not None and row.status is DocumentStatus.QUEUED:
                    documents.set_status(row, DocumentStatus.FAILED, reason=reason)

            self._runner.read(fail)  # one transaction, committed; nothing to audit or reload
            document.status, document.failure_reason = DocumentStatus.FAILED, reason
        return status


def _base_view(db: Session, tenant_id: str, ref: str) -> KnowledgeBaseView:
    kb = KnowledgeBaseRepository(db).require(tenant_id=tenant_id, ref=ref)
    return KnowledgeBaseView(
        kb, KnowledgeDocumentRepository(db).count(tenant_id=tenant_id, kb_id=kb.id)
    )


def _title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not 1 <= len(cleaned) <= 300:
        raise invalid("title", "1 to 300 characters")
    return cleaned


def _check_chunking(chunk_size: int, chunk_overlap: int) -> None:
    if not 200 <= chunk_size <= 4000:
        raise invalid("chunk_size", "between 200 and 4000 characters")
    if not 0 <= chunk_overlap < chunk_size // 2:
        raise invalid("chunk_overlap", "at least 0 and less than half of chunk_size")


def _audit(
    db: Session,
    actor: Actor,
    tenant_id: str,
    action: str,
    entity_id: object,
    before: Snapshot | None,
    after: Snapshot | None,
) -> None:
    record_change(
        db,
        actor,
        tenant_id=tenant_id,
        action=action,
        entity_type=action.split(".", 1)[0],
        entity_id=entity_id,
        before=before,
        after=after,
    )
