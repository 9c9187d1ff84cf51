"""Index one queued document: read it from S3, extract, chunk, embed, upsert into Chroma.

Runs in `functions/ingest`, one SQS record at a time. A document that cannot be indexed (bad
content, a model or store failure) is marked `failed` with a reason an admin can read, and the
record fails (it is retried, then lands in the DLQ), while the rest of the batch is indexed.
A message for a document that no longer exists (deleted meanwhile) is done: nothing to index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.engine import transaction
from agenthub.db.models import DocumentStatus
from agenthub.documents.extract import ExtractionError, NeedsOcrError, extract
from agenthub.errors import AgentHubError
from agenthub.knowledge.chroma import ChromaClient, VectorRecord
from agenthub.knowledge.chunking import MAX_CHUNKS, chunk_text
from agenthub.knowledge.queue import IngestMessage
from agenthub.knowledge.search import EmbedderFactory, collection_name, model_of
from agenthub.observability import get_logger
from agenthub.repositories.knowledge import KnowledgeBaseRepository, KnowledgeDocumentRepository
from agenthub.storage.objects import ObjectStore

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
_UPSERT_BATCH = 256


# Scanned PDFs and images: (bytes, content type, storage key) -> their text, by OCR (the same
# reading chat attachments get: agenthub.documents.reader). None where no engine is configured.
OcrReader = Callable[[bytes, str, str], str]


class IngestFailedError(Exception):
    """The document was marked failed; the SQS record must fail too (retry, then DLQ)."""


@dataclass(frozen=True)
class IngestOutcome:
    document_id: str
    status: Literal["ready", "skipped"]
    chunks: int = 0


@dataclass(frozen=True)
class _Job:
    kb_id: str
    collection: str
    storage_key: str
    content_type: str
    checksum: str
    title: str
    chunk_size: int
    chunk_overlap: int


class Ingestor:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        chroma: ChromaClient,
        embedders: EmbedderFactory,
        max_bytes: int = MAX_DOCUMENT_BYTES,
        ocr: OcrReader | None = None,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._chroma = chroma
        self._embedders = embedders
        self._max_bytes = max_bytes
        self._ocr = ocr

    def ingest(self, message: IngestMessage) -> IngestOutcome:
        tenant_id, document_id = message.tenant_id, message.document_id
        with transaction(self._sessions) as db:
            documents = KnowledgeDocumentRepository(db)
            document = documents.get(tenant_id=tenant_id, document_id=document_id, lock=True)
            if document is None or document.status is DocumentStatus.UPLOADING:
                return IngestOutcome(str(document_id), "skipped")
            if document.status is DocumentStatus.READY:
                return IngestOutcome(str(document_id), "skipped", document.chunk_count)
            kb = KnowledgeBaseRepository(db).require(
                tenant_id=tenant_id, ref=str(document.knowledge_base_id)
            )
            model = model_of(kb)
            job = _Job(
                kb_id=str(kb.id),
                collection=collection_name(kb.id),
                storage_key=document.storage_key,
                content_type=document.content_type,
                checksum=document.checksum,
                title=document.title,
                chunk_size=kb.chunk_size,
                chunk_overlap=kb.chunk_overlap,
            )
            documents.set_status(document, DocumentStatus.INDEXING)
        log = get_logger()
        try:
            chunks = self._index(tenant_id, str(document_id), job, model)
        except (ExtractionError, AgentHubError) as exc:
            reason = exc.reason if isinstance(exc, ExtractionError) else exc.message
            self._finish(tenant_id, message, DocumentStatus.FAILED, reason=reason)
            log.warning(
                "document not indexed",
                extra={"tenant_id": tenant_id, "document_id": str(document_id), "reason": reason},
            )
            raise IngestFailedError(reason) from exc
        except Exception as exc:
            self._finish(
                tenant_id, message, DocumentStatus.FAILED, reason="indexing failed unexpectedly"
            )
            log.exception("document indexing failed", extra={"document_id": str(document_id)})
            raise IngestFailedError("indexing failed unexpectedly") from exc
        if not self._finish(tenant_id, message, DocumentStatus.READY, chunks=chunks):
            # Deleted while we indexed it: take back what we wrote.
            self._chroma.delete_where(tenant_id, job.collection, {"document_id": str(document_id)})
            return IngestOutcome(str(document_id), "skipped")
        log.info(
            "document indexed",
            extra={"tenant_id": tenant_id, "document_id": str(document_id), "chunks": chunks},
        )
        return IngestOutcome(str(document_id), "ready", chunks)

    def _text_of(self, data: bytes, job: _Job) -> str:
        try:
            return extract(data, job.content_type).text
        except NeedsOcrError:
            if self._ocr is None:
                raise
        from agenthub.documents.ocr import DocumentError

        try:
            text = self._ocr(data, job.content_type, job.storage_key).strip()
        except DocumentError as exc:
            raise ExtractionError(exc.message) from exc
        if not text:
            raise ExtractionError("OCR found no text in the file")
        return text

    def _index(self, tenant_id: str, document_id: str, job: _Job, model: object) -> int:
        stored = self._store.get(
            tenant_id=tenant_id, key=job.storage_key, max_bytes=self._max_bytes
        )
        if hashlib.sha256(stored.body).hexdigest() != job.checksum:
            raise ExtractionError("the uploaded content does not match its declared sha256")
        text = self._text_of(stored.body, job)
        chunks = chunk_text(text, chunk_size=job.chunk_size, chunk_overlap=job.chunk_overlap)
        if len(chunks) > MAX_CHUNKS:
            raise ExtractionError(f"the document makes more than {MAX_CHUNKS} chunks")
        embedder = self._embedders(tenant_id=tenant_id, model=model)  # type: ignore[arg-type]
        vectors = embedder.embed_passages(chunks)
        collection = job.collection
        self._chroma.ensure_collection(
            tenant_id, collection, metadata={"knowledge_base_id": job.kb_id}
        )
        # Re-indexing replaces the document's chunks (a retry may have written some).
        self._chroma.delete_where(tenant_id, collection, {"document_id": document_id})
        records = [
            VectorRecord(
                id=f"{document_id}:{index}",
                embedding=vector,
                text=chunk,
                metadata={
                    "tenant_id": tenant_id,
                    "document_id": document_id,
                    "title": job.title,
                    "chunk": index,
                    "content_type": job.content_type,
                },
            )
            for index, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True))
        ]
        for start in range(0, len(records), _UPSERT_BATCH):
            self._chroma.upsert(tenant_id, collection, records[start : start + _UPSERT_BATCH])
        return len(records)

    def _finish(
        self,
        tenant_id: str,
        message: IngestMessage,
        status: DocumentStatus,
        *,
        reason: str | None = None,
        chunks: int | None = None,
    ) -> bool:
        """Record the outcome; False when the document is gone."""
        with transaction(self._sessions) as db:
            documents = KnowledgeDocumentRepository(db)
            document = documents.get(
                tenant_id=tenant_id, document_id=message.document_id, lock=True
            )
            if document is None:
                return False
            documents.set_status(document, status, reason=reason, chunk_count=chunks)
            return True
