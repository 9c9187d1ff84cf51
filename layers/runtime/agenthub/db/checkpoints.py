"""The LangGraph checkpointer on PostgreSQL, and the housekeeping we do on its tables.

The saver owns its schema (created by its own `setup()` in the initial migration; the tables
`checkpoints`, `checkpoint_blobs` and `checkpoint_writes`, each keyed by `thread_id`,
`checkpoint_ns` and the checkpoint id or channel version). We only delete from it - a deleted
session's thread, expired threads - with the SQL below, through the engine, for the sessions
and retention functions (the saver's public `delete_thread` removes one thread at a time). A
failed chat turn writes nothing to delete: its checkpoint is held back until its rows are
stored, and dropped with them (agenthub.db.turn_saver).
tests/integration/test_checkpoints.py runs this SQL against the schema the installed saver
creates, so a saver upgrade that changes it fails there first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base.id import uuid6

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool
    from sqlalchemy import Engine

    from agenthub.db.turn_saver import TurnSaver

CHECKPOINT_TABLES = ("checkpoint_writes", "checkpoint_blobs", "checkpoints")


def saver_on_pool(pool: ConnectionPool[Any]) -> TurnSaver:
    """A saver on the container's psycopg pool (agenthub.db.pool), which the chat store and
    SQLAlchemy share: one pool per container. The pool's connections are in the saver's mode
    (autocommit, dict rows, no prepared statements). The chat turn holds its checkpoint back
    and stores it with its rows (agenthub.db.turn_saver)."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from agenthub.agents.results import CHECKPOINT_TYPES
    from agenthub.db.turn_saver import TurnSaver

    # Our turn results are in the checkpoint: allow them by name (no warning, strict-safe).
    serde = JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES)
    return TurnSaver(pool, serde=serde)


# Checkpoint metadata key naming the turn that wrote a checkpoint (LangGraph copies the run
# config's metadata into it): the chat turn holds back exactly its own checkpoint by it
# (agenthub.db.turn_saver), even when another turn of the same session runs meanwhile.
TURN_KEY = "agenthub_turn"


def turn_marker() -> str:
    """An id that sorts before every checkpoint id created after it (they are uuid6 too)."""
    return str(uuid6())


def turn_metadata(marker: str) -> dict[str, str]:
    """The run config metadata that tags every checkpoint of the turn started at `marker`."""
    return {TURN_KEY: marker}


def delete_threads(engine: Engine, thread_ids: Sequence[str]) -> int:
    """Remove every checkpoint, write and blob of these threads; returns checkpoints removed."""
    from sqlalchemy import text

    if not thread_ids:
        return 0
    ids = list(thread_ids)
    removed = 0
    with engine.begin() as conn:
        for table in CHECKPOINT_TABLES:
            result = conn.execute(
                text(f"DELETE FROM {table} WHERE thread_id = ANY(:ids)"),  # noqa: S608
                {"ids": ids},
            )
            if table == "checkpoints":
                removed = result.rowcount
    return removed


def count_threads(engine: Engine, thread_ids: Sequence[str]) -> int:
    """How many checkpoints these threads hold (what `delete_threads` would report)."""
    from sqlalchemy import text

    if not thread_ids:
        return 0
    with engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM checkpoints WHERE thread_id = ANY(:ids)"),
            {"ids": list(thread_ids)},
        ).scalar_one()
    return int(count)
