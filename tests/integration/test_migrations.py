"""`agenthub db upgrade|downgrade` on a real, empty PostgreSQL database."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from agenthub.cli import main
from agenthub.db.engine import sqlalchemy_url
from agenthub.db.models import Base

APPLICATION_TABLES = {
    "tenants",
    "llm_models",
    "tenant_llm_configs",
    "base_tools",
    "output_formats",
    "tool_configs",
    "agent_configs",
    "agent_tools",
    "tenant_agent_permissions",
    "tenant_tool_permissions",
    "sessions",
    "uploads",
    "messages",
    "audit_log",
    "tenant_data_sources",
    "knowledge_bases",
    "knowledge_documents",
}
CHECKPOINT_TABLES = {
    "checkpoints",
    "checkpoint_blobs",
    "checkpoint_writes",
    "checkpoint_migrations",
}


def _tables(url: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _enum_types(url: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
                    " WHERE n.nspname = 'public' AND t.typtype = 'e'"
                )
            )
            return {row[0] for row in rows}
    finally:
        engine.dispose()


@pytest.fixture
def cli_on(base_env: None, monkeypatch: pytest.MonkeyPatch, empty_database_url: str) -> str:
    from agenthub import composition

    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    composition.reset()
    return empty_database_url


def test_upgrade_creates_every_table_and_the_checkpoint_tables(cli_on: str) -> None:
    assert main(["db", "upgrade"]) == 0
    tables = _tables(cli_on)
    assert tables >= APPLICATION_TABLES
    assert tables >= CHECKPOINT_TABLES
    assert set(Base.metadata.tables) == APPLICATION_TABLES


def test_downgrade_base_removes_everything_and_upgrade_works_again(cli_on: str) -> None:
    assert main(["db", "upgrade"]) == 0

    assert main(["db", "downgrade", "base"]) == 0
    assert _tables(cli_on) <= {"alembic_version"}
    assert _enum_types(cli_on) == set()

    assert main(["db", "upgrade", "head"]) == 0
    assert _tables(cli_on) >= APPLICATION_TABLES | CHECKPOINT_TABLES


def _checkpoint_schema(url: str) -> tuple[set[int], set[str]]:
    """The saver migrations recorded as applied, and the columns of checkpoint_writes."""
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            applied = {row[0] for row in conn.execute(text("SELECT v FROM checkpoint_migrations"))}
        columns = {c["name"] for c in inspect(engine).get_columns("checkpoint_writes")}
        return applied, columns
    finally:
        engine.dispose()


def test_upgrade_applies_saver_migrations_newer_than_the_database(cli_on: str) -> None:
    """A newer langgraph-checkpoint-postgres brings migrations that Alembic's 0001 never ran."""
    from langgraph.checkpoint.postgres.base import MIGRATIONS

    # GIVEN a database at head whose saver schema predates the `task_path` migration
    assert main(["db", "upgrade"]) == 0
    task_path = next(v for v, sql in enumerate(MIGRATIONS) if "task_path" in sql)
    engine = create_engine(sqlalchemy_url(cli_on))
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM checkpoint_migrations WHERE v >= :v"), {"v": task_path})
            conn.execute(text("ALTER TABLE checkpoint_writes DROP COLUMN task_path"))
    finally:
        engine.dispose()

    # WHEN the deploy step runs `agenthub db upgrade` (Alembic itself has nothing to do)
    assert main(["db", "upgrade"]) == 0

    # THEN the saver's missing migrations are applied and recorded
    applied, columns = _checkpoint_schema(cli_on)
    assert applied == set(range(len(MIGRATIONS)))
    assert "task_path" in columns
    # AND downgrading to base still removes everything
    assert main(["db", "downgrade", "base"]) == 0
    assert _tables(cli_on) <= {"alembic_version"}


def test_the_models_match_the_migrations(database_url: str) -> None:
    """Autogenerate against a migrated database finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_object": lambda obj, name, type_, reflected, compare_to: (
                        not (
                            (name or "").startswith("checkpoint")
                            or getattr(getattr(obj, "table", None), "name", "").startswith(
                                "checkpoint"
                            )
                        )
                    ),
                    "compare_type": True,
                },
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
