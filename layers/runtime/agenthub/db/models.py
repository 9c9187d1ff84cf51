"""SQLAlchemy 2 typed models of the application schema (Alembic owns the DDL).

Every tenant-owned table carries `tenant_id` and its indexes lead with it. Config tables carry a
`version` used for optimistic concurrency; `tenants.config_version` is the tenant's cache version.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSONB, list[Any]: JSONB}  # noqa: RUF012


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class Versioned:
    """Optimistic concurrency: SQLAlchemy bumps `version` and checks it on every UPDATE."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class ToolType(enum.StrEnum):
    HTTP_GET = "HTTP_GET"
    HTTP_POST = "HTTP_POST"
    RAG = "RAG"
    DB_QUERY = "DB_QUERY"
    OCR = "OCR"


class MultiIntentPolicy(enum.StrEnum):
    REJECT = "reject"
    PARALLEL = "parallel"


class MessageRole(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


def _enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    return Enum(enum_cls, name=name, values_callable=lambda e: [m.value for m in e])


class Tenant(Timestamps, Versioned, Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    retention_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default="90")
    multi_intent_policy: Mapped[MultiIntentPolicy] = mapped_column(
        _enum(MultiIntentPolicy, "multi_intent_policy"), nullable=False, server_default="reject"
    )
    memory_max_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="2000")
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, nullable=False, server_default="60")
    # Bumped by every config reload; part of every cache key of the tenant's runtime config.
    config_version: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="1")

    __table_args__ = (
        CheckConstraint(f"id ~ '{TENANT_ID_PATTERN}'", name="id_format"),
        CheckConstraint("retention_days BETWEEN 1 AND 3650", name="retention_days_range"),
        CheckConstraint("memory_max_tokens BETWEEN 200 AND 200000", name="memory_range"),
        CheckConstraint("rate_limit_per_minute BETWEEN 1 AND 100000", name="rate_limit_range"),
    )


class LlmModel(Timestamps, Versioned, Base):
    __tablename__ = "llm_models"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    model_name: Mapped[str] = mapped_column(String(200), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    input_price_per_1k: Mapped[Decimal] = mapped_column(
        Numeric(12, 6), nullable=False, server_default="0"
    )
    output_price_per_1k: Mapped[Decimal] = mapped_column(
        Numeric(12, 6), nullable=False, server_default="0"
    )
    context_window: Mapped[int] = mapped_column(Integer, nullable=False, server_default="8192")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    # Editable catalogue (migration 0003): the provider's structured output (JSON schema or
    # tool strategy) can be used for this model.
    supports_structured_output: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="false"
    )

    __table_args__ = (UniqueConstraint("provider", "model_name"),)


class TenantLlmConfig(Timestamps, Versioned, Base):
    __tablename__ = "tenant_llm_configs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    llm_model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("llm_models.id"), nullable=False)
    encrypted_api_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    api_key_hint: Mapped[str | None] = mapped_column(String(20), nullable=True)
    base_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    temperature: Mapped[Decimal] = mapped_column(Numeric(3, 2), nullable=False, server_default="0")
    max_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1024")
    extra: Mapped[dict[str, Any]] = mapped_column(nullable=False, server_default="{}")

    llm_model: Mapped[LlmModel] = relationship(lazy="joined")


class BaseTool(Timestamps, Base):
    __tablename__ = "base_tools"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    type: Mapped[ToolType] = mapped_column(
        _enum(ToolType, "tool_type"), nullable=False, unique=True
    )
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    # JSON Schema that a tool_configs.config of this type must satisfy.
    config_schema: Mapped[dict[str, Any]] = mapped_column(nullable=False, server_default="{}")


class OutputFormat(Timestamps, Versioned, Base):
    __tablename__ = "output_formats"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    renderer_hint: Mapped[str] = mapped_column(String(80), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    schema: Mapped[dict[str, Any]] = mapped_column(nullable=False, server_default="{}")


class ToolConfig(Timestamps, Versioned, Base):
    __tablename__ = "tool_configs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    base_tool_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("base_tools.id"), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    input_schema: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    config: Mapped[dict[str, Any]] = mapped_column(nullable=False, server_default="{}")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    base_tool: Mapped[BaseTool] = relationship(lazy="joined")

    __table_args__ = (
        # A soft-deleted tool frees its name.
        Index(
            "uq_tool_configs_name_live", "name", unique=True, postgresql_where="deleted_at IS NULL"
        ),
        CheckConstraint("name ~ '^[a-zA-Z][a-zA-Z0-9_]{0,63}$'", name="name_format"),
    )


class AgentConfig(Timestamps, Versioned, Base):
    __tablename__ = "agent_configs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    system_prompt: Mapped[str] = mapped_column(Text, nullable=False)
    llm_model_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("llm_models.id"), nullable=True
    )
    output_format_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("output_formats.id"), nullable=False
    )
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    output_format: Mapped[OutputFormat] = relationship(lazy="joined")

    __table_args__ = (
        Index(
            "uq_agent_configs_name_live", "name", unique=True, postgresql_where="deleted_at IS NULL"
        ),
        CheckConstraint("name ~ '^[a-z][a-z0-9_]{0,63}$'", name="name_format"),
    )


class AgentTool(Timestamps, Base):
    __tablename__ = "agent_tools"

    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agent_configs.id", ondelete="CASCADE"), primary_key=True
    )
    tool_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tool_configs.id", ondelete="CASCADE"), primary_key=True
    )
    priority: Mapped[int] = mapped_column(Integer, nullable=False, server_default="100")

    __table_args__ = (
        Index("ix_agent_tools_agent_priority", "agent_id", "priority"),
        Index("ix_agent_tools_tool_id", "tool_id"),
    )


class TenantAgentPermission(Timestamps, Base):
    __tablename__ = "tenant_agent_permissions"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agent_configs.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")

    __table_args__ = (Index("ix_tenant_agent_permissions_agent_id", "agent_id"),)


class TenantToolPermission(Timestamps, Base):
    __tablename__ = "tenant_tool_permissions"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    tool_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tool_configs.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    # Credential for tools whose auth mode is `tenant_secret`, Fernet-encrypted.
    encrypted_secret: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    __table_args__ = (Index("ix_tenant_tool_permissions_tool_id", "tool_id"),)


class ChatSession(Timestamps, Base):
    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(String(200), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    message_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_activity_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # Set while a turn of this session is being answered: a second message (a double submit)
    # waits for it instead of forking the conversation's memory.
    turn_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_sessions_tenant_user_activity", "tenant_id", "user_id", "last_activity_at", "id"),
        Index("ix_sessions_tenant_activity", "tenant_id", "last_activity_at"),
    )


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    )
    # Order within a session (created_at can tie inside one transaction).
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    role: Mapped[MessageRole] = mapped_column(_enum(MessageRole, "message_role"), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    format: Mapped[str | None] = mapped_column(String(40), nullable=True)
    renderer_hint: Mapped[str | None] = mapped_column(String(80), nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    tool_calls: Mapped[list[Any]] = mapped_column(nullable=False, server_default="[]")
    input_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    output_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 8), nullable=False, server_default="0")
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    llm_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # Knowledge (RAG): [{document_id, title, snippet, score}] the answer drew on (migration 0004).
    citations: Mapped[list[Any] | None] = mapped_column(JSONB, nullable=True)

    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        Index("ix_messages_tenant_session_seq", "tenant_id", "session_id", "seq"),
        Index("ix_messages_tenant_created", "tenant_id", "created_at"),
    )


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # NULL for changes to global config (agents, tools) made by a platform admin.
    tenant_id: Mapped[str | None] = mapped_column(String(63), nullable=True)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_tenant_id: Mapped[str | None] = mapped_column(String(63), nullable=True)
    action: Mapped[str] = mapped_column(String(80), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(80), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(200), nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        Index("ix_audit_log_tenant_created", "tenant_id", "created_at"),
        Index("ix_audit_log_entity", "entity_type", "entity_id"),
    )


# --- Tenant data sources (DB_QUERY tools) ------------------------------------------------------


class TenantDataSource(Timestamps, Versioned, Base):
    """A tenant's PostgreSQL database for DB_QUERY tools, addressed by name within the tenant."""

    __tablename__ = "tenant_data_sources"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(63), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    # The connection URL, Fernet-encrypted; `url_hint` is the same URL with the password masked.
    encrypted_url: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    url_hint: Mapped[str] = mapped_column(String(2100), nullable=False)

    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("name ~ '^[a-z][a-z0-9_]{0,62}$'", name="name_format"),
    )


# --- Chat attachments (uploads): files a user sends with a chat message ---------------------------


class UploadStatus(enum.StrEnum):
    PENDING = "pending"  # an upload URL was handed out; the file may not be there yet
    READY = "ready"  # the file is stored and its bytes match the declared type and size
    REJECTED = "rejected"  # the file did not match; its object was deleted


class Upload(Base):
    """One file in the files bucket under `tenant/{tenant_id}/user/{user_id}/`, owned by that
    user. Linked to the conversation it was sent in, and deleted with it."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(String(200), nullable=False)
    # NULL until the file is sent in a chat message; a deleted conversation sets it back to NULL
    # and retention removes such uploads (their files too) after a grace period.
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), nullable=True
    )
    object_key: Mapped[str] = mapped_column(String(500), nullable=False, unique=True)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    declared_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    rejected_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        CheckConstraint("declared_size > 0", name="declared_size_positive"),
        CheckConstraint("status IN ('pending', 'ready', 'rejected')", name="status_known"),
        Index("ix_uploads_tenant_user_created", "tenant_id", "user_id", "created_at"),
        Index("ix_uploads_tenant_session", "tenant_id", "session_id"),
    )


# --- Knowledge bases (RAG): documents per tenant, vectors in Chroma (migration 0004) -----------


class DocumentStatus(enum.StrEnum):
    UPLOADING = "uploading"  # a presigned upload URL is out; "complete" queues it
    QUEUED = "queued"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


KNOWLEDGE_BASE_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"


class KnowledgeBase(Timestamps, Versioned, Base):
    __tablename__ = "knowledge_bases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    # Fixed once the knowledge base has documents (vectors of two models do not compare).
    embedding_provider: Mapped[str] = mapped_column(String(20), nullable=False)
    embedding_model: Mapped[str] = mapped_column(String(100), nullable=False)
    embedding_dimension: Mapped[int] = mapped_column(Integer, nullable=False)
    chunk_size: Mapped[int] = mapped_column(Integer, nullable=False, server_default="800")
    chunk_overlap: Mapped[int] = mapped_column(Integer, nullable=False, server_default="120")

    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(f"name ~ '{KNOWLEDGE_BASE_NAME_PATTERN}'", name="name_format"),
        CheckConstraint("chunk_size BETWEEN 200 AND 4000", name="chunk_size_range"),
        CheckConstraint("chunk_overlap >= 0 AND chunk_overlap < chunk_size", name="overlap_range"),
    )


class KnowledgeDocument(Timestamps, Base):
    __tablename__ = "knowledge_documents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    knowledge_base_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("knowledge_bases.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    filename: Mapped[str | None] = mapped_column(String(300), nullable=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # sha256 of the content, hex: the same content again in the same knowledge base is a no-op.
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(500), nullable=False)
    status: Mapped[DocumentStatus] = mapped_column(
        _enum(DocumentStatus, "knowledge_document_status"), nullable=False
    )
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    chunk_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    indexed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        UniqueConstraint("knowledge_base_id", "checksum"),
        Index(
            "ix_knowledge_documents_tenant_kb_created",
            "tenant_id",
            "knowledge_base_id",
            "created_at",
        ),
    )
