"""Request and response schemas of the knowledge admin API (`XCreate / XUpdate / XPublic`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agenthub.api.admin.schemas import _Patch
from agenthub.db.models import KNOWLEDGE_BASE_NAME_PATTERN, KnowledgeDocument
from agenthub.errors import ValidationFailedError
from agenthub.services.admin import Changed, ReloadStatus
from agenthub.services.admin.knowledge import DocumentChange, KnowledgeBaseView, UploadGrant

EmbeddingProviderName = Literal["local", "bedrock", "openai"]


class KnowledgeBaseCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "policies",
                    "description": "Company policies",
                    "embedding_provider": "local",
                }
            ]
        },
    )

    name: str = Field(pattern=KNOWLEDGE_BASE_NAME_PATTERN)
    description: str = Field(default="", max_length=2000)
    embedding_provider: EmbeddingProviderName = "local"
    embedding_model: str | None = Field(default=None, max_length=100)
    chunk_size: int = Field(default=800, ge=200, le=4000)
    chunk_overlap: int = Field(default=120, ge=0, le=1999)


class KnowledgeBaseUpdate(_Patch):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, pattern=KNOWLEDGE_BASE_NAME_PATTERN)
    description: str | None = Field(default=None, max_length=2000)
    embedding_provider: EmbeddingProviderName | None = None
    embedding_model: str | None = Field(default=None, max_length=100)
    chunk_size: int | None = Field(default=None, ge=200, le=4000)
    chunk_overlap: int | None = Field(default=None, ge=0, le=1999)


class KnowledgeBasePublic(BaseModel):
    id: uuid.UUID
    tenant_id: str
    name: str
    description: str
    embedding_provider: str
    embedding_model: str
    embedding_dimension: int
    chunk_size: int
    chunk_overlap: int
    document_count: int
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: KnowledgeBaseView) -> Self:
        kb = view.kb
        return cls(
            id=kb.id,
            tenant_id=kb.tenant_id,
            name=kb.name,
            description=kb.description,
            embedding_provider=kb.embedding_provider,
            embedding_model=kb.embedding_model,
            embedding_dimension=kb.embedding_dimension,
            chunk_size=kb.chunk_size,
            chunk_overlap=kb.chunk_overlap,
            document_count=view.document_count,
            version=kb.version,
            created_at=kb.created_at,
            updated_at=kb.updated_at,
        )


class KnowledgeBaseChange(KnowledgeBasePublic):
    reload: ReloadStatus

    @classmethod
    def of_change(cls, changed: Changed[KnowledgeBaseView]) -> Self:
        return cls(**KnowledgeBasePublic.of(changed.value).model_dump(), reload=changed.reload)


class KnowledgeBaseList(BaseModel):
    items: list[KnowledgeBasePublic]


class DocumentJson(BaseModel):
    """`{title, text}` (text, Markdown or HTML) or `{title, content_base64, content_type}`."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    text: str | None = Field(default=None, min_length=1)
    content_base64: str | None = Field(default=None, min_length=1)
    content_type: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _one_content(self) -> Self:
        if (self.text is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of text or content_base64")
        if self.content_base64 is not None and not self.content_type:
            raise ValueError("content_base64 needs its content_type")
        return self

    @classmethod
    def parse(cls, payload: Any) -> DocumentJson:
        try:
            return cls.model_validate(payload)
        except ValidationError as exc:
            problems = [
                {"field": ".".join(map(str, e["loc"])) or "body", "message": e["msg"]}
                for e in exc.errors(include_url=False, include_input=False)
            ]
            raise ValidationFailedError(
                "invalid input: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems),
                details=problems,
            ) from exc


class DocumentPublic(BaseModel):
    id: uuid.UUID
    knowledge_base_id: uuid.UUID
    title: str
    filename: str | None
    content_type: str
    size_bytes: int
    checksum: str
    status: str
    failure_reason: str | None
    chunk_count: int
    attempts: int
    created_at: datetime
    updated_at: datetime
    indexed_at: datetime | None

    @classmethod
    def of(cls, document: KnowledgeDocument) -> Self:
        return cls(
            id=document.id,
            knowledge_base_id=document.knowledge_base_id,
            title=document.title,
            filename=document.filename,
            content_type=document.content_type,
            size_bytes=document.size_bytes,
            checksum=document.checksum,
            status=document.status.value,
            failure_reason=document.failure_reason,
            chunk_count=document.chunk_count,
            attempts=document.attempts,
            created_at=document.created_at,
            updated_at=document.updated_at,
            indexed_at=document.indexed_at,
        )


class DocumentChangePublic(DocumentPublic):
    # "queued": sent to the ingestion queue; "pending": the queue could not be reached (the
    # document is failed with that reason); "none": nothing to do (same content already there).
    ingestion: Literal["queued", "pending", "none"]

    @classmethod
    def of(cls, change: DocumentChange) -> Self:  # type: ignore[override]
        return cls(**DocumentPublic.of(change.document).model_dump(), ingestion=change.ingestion)


class DocumentList(BaseModel):
    items: list[DocumentPublic]


class UploadUrlRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Returns policy",
                    "filename": "returns.pdf",
                    "content_type": "application/pdf",
                    "size": 1048576,
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                }
            ]
        },
    )

    title: str = Field(min_length=1, max_length=300)
    filename: str | None = Field(default=None, max_length=300)
    content_type: str = Field(min_length=1, max_length=100)
    size: int = Field(ge=1, le=50 * 1024 * 1024)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="of the content, hex")


class PresignedPutPublic(BaseModel):
    url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str]
    expires_at: datetime
    max_bytes: int


class UploadGrantPublic(BaseModel):
    document: DocumentPublic
    # None when the same content is already in the knowledge base (nothing to upload).
    upload: PresignedPutPublic | None
    complete_url: str | None

    @classmethod
    def of(cls, grant: UploadGrant) -> Self:
        document = grant.document
        upload = None
        if grant.upload is not None:
            upload = PresignedPutPublic(
                url=grant.upload.url,
                headers=grant.upload.headers,
                expires_at=grant.upload.expires_at,
                max_bytes=grant.upload.max_bytes,
            )
        complete = (
            f"/api/admin/tenants/{document.tenant_id}/knowledge-bases/"
            f"{document.knowledge_base_id}/documents/{document.id}/complete"
            if upload is not None
            else None
        )
        return cls(document=DocumentPublic.of(document), upload=upload, complete_url=complete)
