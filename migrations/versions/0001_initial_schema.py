"""Initial schema: the application tables and the LangGraph checkpoint tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 04:17:26.459753
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ENUM_TYPES = ("tool_type", "multi_intent_policy", "message_role")
CHECKPOINT_TABLES = (
    "checkpoint_writes",
    "checkpoint_blobs",
    "checkpoints",
    "checkpoint_migrations",
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_tenant_id", sa.String(length=63), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("entity_type", sa.String(length=80), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_type", "entity_id"], unique=False)
    op.create_index(
        "ix_audit_log_tenant_created", "audit_log", ["tenant_id", "created_at"], unique=False
    )
    op.create_table(
        "base_tools",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "type",
            sa.Enum("HTTP_GET", "HTTP_POST", "RAG", "DB_QUERY", "OCR", name="tool_type"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "config_schema",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base_tools")),
        sa.UniqueConstraint("type", name=op.f("uq_base_tools_type")),
    )
    op.create_table(
        "llm_models",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column(
            "input_price_per_1k",
            sa.Numeric(precision=12, scale=6),
            server_default="0",
            nullable=False,
        ),
        sa.Column(
            "output_price_per_1k",
            sa.Numeric(precision=12, scale=6),
            server_default="0",
            nullable=False,
        ),
        sa.Column("context_window", sa.Integer(), server_default="8192", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_models")),
        sa.UniqueConstraint(
            "provider", "model_name", name=op.f("uq_llm_models_provider_model_name")
        ),
    )
    op.create_table(
        "output_formats",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("renderer_hint", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "schema", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_output_formats")),
        sa.UniqueConstraint("name", name=op.f("uq_output_formats_name")),
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("retention_days", sa.Integer(), server_default="90", nullable=False),
        sa.Column(
            "multi_intent_policy",
            sa.Enum("reject", "parallel", name="multi_intent_policy"),
            server_default="reject",
            nullable=False,
        ),
        sa.Column("memory_max_tokens", sa.Integer(), server_default="2000", nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), server_default="60", nullable=False),
        sa.Column("config_version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("id ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name=op.f("ck_tenants_id_format")),
        sa.CheckConstraint(
            "memory_max_tokens BETWEEN 200 AND 200000", name=op.f("ck_tenants_memory_range")
        ),
        sa.CheckConstraint(
            "rate_limit_per_minute BETWEEN 1 AND 100000", name=op.f("ck_tenants_rate_limit_range")
        ),
        sa.CheckConstraint(
            "retention_days BETWEEN 1 AND 3650", name=op.f("ck_tenants_retention_days_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "agent_configs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=False),
        sa.Column("llm_model_id", sa.Uuid(), nullable=True),
        sa.Column("output_format_id", sa.Uuid(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "name ~ '^[a-z][a-z0-9_]{0,63}$'", name=op.f("ck_agent_configs_name_format")
        ),
        sa.ForeignKeyConstraint(
            ["llm_model_id"],
            ["llm_models.id"],
            name=op.f("fk_agent_configs_llm_model_id_llm_models"),
        ),
        sa.ForeignKeyConstraint(
            ["output_format_id"],
            ["output_formats.id"],
            name=op.f("fk_agent_configs_output_format_id_output_formats"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_configs")),
    )
    op.create_index(
        "uq_agent_configs_name_live",
        "agent_configs",
        ["name"],
        unique=True,
        postgresql_where="deleted_at IS NULL",
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), server_default="", nullable=False),
        sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sessions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(
        "ix_sessions_tenant_activity", "sessions", ["tenant_id", "last_activity_at"], unique=False
    )
    op.create_index(
        "ix_sessions_tenant_user_activity",
        "sessions",
        ["tenant_id", "user_id", "last_activity_at", "id"],
        unique=False,
    )
    op.create_table(
        "tenant_llm_configs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("llm_model_id", sa.Uuid(), nullable=False),
        sa.Column("encrypted_api_key", sa.LargeBinary(), nullable=True),
        sa.Column("api_key_hint", sa.String(length=20), nullable=True),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column(
            "temperature", sa.Numeric(precision=3, scale=2), server_default="0", nullable=False
        ),
        sa.Column("max_tokens", sa.Integer(), server_default="1024", nullable=False),
        sa.Column(
            "extra", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["llm_model_id"],
            ["llm_models.id"],
            name=op.f("fk_tenant_llm_configs_llm_model_id_llm_models"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_llm_configs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_llm_configs")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_tenant_llm_configs_tenant_id")),
    )
    op.create_table(
        "tool_configs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("base_tool_id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("input_schema", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "config", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "name ~ '^[a-zA-Z][a-zA-Z0-9_]{0,63}$'", name=op.f("ck_tool_configs_name_format")
        ),
        sa.ForeignKeyConstraint(
            ["base_tool_id"],
            ["base_tools.id"],
            name=op.f("fk_tool_configs_base_tool_id_base_tools"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_configs")),
    )
    op.create_index(
        "uq_tool_configs_name_live",
        "tool_configs",
        ["name"],
        unique=True,
        postgresql_where="deleted_at IS NULL",
    )
    op.create_table(
        "agent_tools",
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("tool_id", sa.Uuid(), nullable=False),
        sa.Column("priority", sa.Integer(), server_default="100", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent_configs.id"],
            name=op.f("fk_agent_tools_agent_id_agent_configs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["tool_configs.id"],
            name=op.f("fk_agent_tools_tool_id_tool_configs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", "tool_id", name=op.f("pk_agent_tools")),
    )
    op.create_index(
        "ix_agent_tools_agent_priority", "agent_tools", ["agent_id", "priority"], unique=False
    )
    op.create_index("ix_agent_tools_tool_id", "agent_tools", ["tool_id"], unique=False)
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.Enum("user", "assistant", name="message_role"), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("format", sa.String(length=40), nullable=True),
        sa.Column("renderer_hint", sa.String(length=80), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "tool_calls",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("input_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("output_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "cost_usd", sa.Numeric(precision=14, scale=8), server_default="0", nullable=False
        ),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("llm_model", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_messages_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_messages_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("session_id", "seq", name=op.f("uq_messages_session_id_seq")),
    )
    op.create_index(
        "ix_messages_tenant_created", "messages", ["tenant_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_messages_tenant_session_seq",
        "messages",
        ["tenant_id", "session_id", "seq"],
        unique=False,
    )
    op.create_table(
        "tenant_agent_permissions",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent_configs.id"],
            name=op.f("fk_tenant_agent_permissions_agent_id_agent_configs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_agent_permissions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "agent_id", name=op.f("pk_tenant_agent_permissions")),
    )
    op.create_index(
        "ix_tenant_agent_permissions_agent_id",
        "tenant_agent_permissions",
        ["agent_id"],
        unique=False,
    )
    op.create_table(
        "tenant_tool_permissions",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("tool_id", sa.Uuid(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("encrypted_secret", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_tool_permissions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["tool_configs.id"],
            name=op.f("fk_tenant_tool_permissions_tool_id_tool_configs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "tool_id", name=op.f("pk_tenant_tool_permissions")),
    )
    op.create_index(
        "ix_tenant_tool_permissions_tool_id", "tenant_tool_permissions", ["tool_id"], unique=False
    )
    _create_checkpoint_tables()


def _create_checkpoint_tables() -> None:
    """The saver owns its schema: run its own setup() (it needs autocommit: CONCURRENTLY)."""
    from langgraph.checkpoint.postgres import PostgresSaver

    with op.get_context().autocommit_block():
        PostgresSaver(op.get_bind().connection.dbapi_connection).setup()


def downgrade() -> None:
    for table in CHECKPOINT_TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.drop_index("ix_tenant_tool_permissions_tool_id", table_name="tenant_tool_permissions")
    op.drop_table("tenant_tool_permissions")
    op.drop_index("ix_tenant_agent_permissions_agent_id", table_name="tenant_agent_permissions")
    op.drop_table("tenant_agent_permissions")
    op.drop_index("ix_messages_tenant_session_seq", table_name="messages")
    op.drop_index("ix_messages_tenant_created", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_agent_tools_tool_id", table_name="agent_tools")
    op.drop_index("ix_agent_tools_agent_priority", table_name="agent_tools")
    op.drop_table("agent_tools")
    op.drop_index(
        "uq_tool_configs_name_live",
        table_name="tool_configs",
        postgresql_where="deleted_at IS NULL",
    )
    op.drop_table("tool_configs")
    op.drop_table("tenant_llm_configs")
    op.drop_index("ix_sessions_tenant_user_activity", table_name="sessions")
    op.drop_index("ix_sessions_tenant_activity", table_name="sessions")
    op.drop_table("sessions")
    op.drop_index(
        "uq_agent_configs_name_live",
        table_name="agent_configs",
        postgresql_where="deleted_at IS NULL",
    )
    op.drop_table("agent_configs")
    op.drop_table("tenants")
    op.drop_table("output_formats")
    op.drop_table("llm_models")
    op.drop_table("base_tools")
    op.drop_index("ix_audit_log_tenant_created", table_name="audit_log")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    for enum_name in ENUM_TYPES:
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
