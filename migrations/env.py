"""Alembic environment for the application schema.

The LangGraph checkpoint tables belong to the saver's own `setup()` (run from the initial
migration) and are kept out of autogenerate.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool

from agenthub.db.engine import sqlalchemy_url
from agenthub.db.models import Base

CHECKPOINT_TABLES = frozenset(
    {"checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations"}
)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name in CHECKPOINT_TABLES:
        return False
    table = getattr(obj, "table", None)
    return not (table is not None and table.name in CHECKPOINT_TABLES)


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        from agenthub.composition import database_url

        url = database_url()
    return sqlalchemy_url(url)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=Base.metadata,
        literal_binds=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
