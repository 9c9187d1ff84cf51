"""Alembic, wrapped: `agenthub db upgrade|downgrade|current` use this.

The LangGraph checkpoint tables belong to the saver: revision 0001 creates them with its
`setup()`, and every upgrade to head runs `setup()` again so that the migrations of a newer
langgraph-checkpoint-postgres reach existing databases too.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import agenthub


def migrations_dir() -> Path:
    """`migrations/` from the wheel (packaged inside agenthub) or from the source checkout."""
    package_dir = Path(agenthub.__file__).resolve().parent
    candidates = [package_dir / "migrations", *(p / "migrations" for p in package_dir.parents)]
    for candidate in candidates:
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("cannot find the Alembic migrations directory")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


HEAD_REVISIONS = frozenset({"head", "heads"})


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
    if revision in HEAD_REVISIONS:
        upgrade_checkpoint_tables(url)


def upgrade_checkpoint_tables(url: str) -> None:
    """Apply the saver's own migrations it has not recorded yet (idempotent)."""
    from langgraph.checkpoint.postgres import PostgresSaver

    from agenthub.db.engine import libpq_url

    # from_conn_string opens the autocommit connection setup() needs (CREATE INDEX CONCURRENTLY).
    with PostgresSaver.from_conn_string(libpq_url(url)) as saver:
        saver.setup()


def downgrade(url: str, revision: str = "-1") -> None:
    command.downgrade(alembic_config(url), revision)


def current(url: str) -> None:
    command.current(alembic_config(url), verbose=False)
