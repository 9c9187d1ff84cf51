"""The LangGraph checkpointer on PostgreSQL, and the housekeeping we do on its tables.

The saver owns its schema (created by its own `setup()` in the initial migration; the tables
`checkpoints`, `checkpoint_blobs` and `checkpoint_writes`, each keyed by `thread_id`,
`checkpoint_ns` and the checkpoint id or channel version). We only delete from it - a failed
turn's checkpoints, a deleted session's thread, expired threads - with the SQL below (a failed
turn's on the psycopg pool, without SQLAlchemy, since the chat function does it; whole threads
through the engine, for the sessions and retention functions). The saver's public
`delete_thread` removes one thread at a time and cannot remove single checkpoints.
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


# Blobs are shared between checkpoints by (channel, version): keep any an older one still uses.
# Checkpoint metadata key naming the turn that wrote a checkpoint (LangGraph copies the run
# config's metadata into it), so a failed turn discards exactly its own checkpoints even when
# another turn of the same session ran meanwhile.
TURN_KEY = "agenthub_turn"

_FAILED_CHECKPOINTS = """
SELECT checkpoint_id FROM checkpoints
WHERE thread_id = %(thread_id)s AND checkpoint_id > %(marker)s
  AND metadata ->> %(key)s = %(marker)s
"""

_DELETE_FAILED_BLOBS = """
DELETE FROM checkpoint_blobs AS bl
USING checkpoints AS failed, jsonb_each_text(failed.checkpoint -> 'channel_versions') AS cv
WHERE failed.thread_id = %(thread_id)s
  AND failed.checkpoint_id = ANY(%(failed)s)
  AND bl.thread_id = failed.thread_id
  AND bl.checkpoint_ns = failed.checkpoint_ns
  AND bl.channel = cv.key
  AND bl.version = cv.value
  AND NOT EXISTS (
    SELECT 1 FROM checkpoints AS kept
    WHERE kept.thread_id = bl.thread_id
      AND kept.checkpoint_ns = bl.checkpoint_ns
      AND kept.checkpoint_id <> ALL(%(failed)s)
      AND kept.checkpoint -> 'channel_versions' ->> bl.channel = bl.version
  )
"""


def turn_marker() -> str:
    """An id that sorts before every checkpoint id created after it (they are uuid6 too)."""
    return str(uuid6())


def turn_metadata(marker: str) -> dict[str, str]:
    """The run config metadata that tags every checkpoint of the turn started at `marker`."""
    return {TURN_KEY: marker}


def discard_since(pool: ConnectionPool[Any], *, thread_id: str, marker: str) -> None:
    """Forget the checkpoints a failed turn wrote, so its half state never becomes memory."""
    params: dict[str, Any] = {"thread_id": thread_id, "marker": marker, "key": TURN_KEY}
    with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
        cursor.execute(_FAILED_CHECKPOINTS, params)
        failed = [_first(row) for row in cursor.fetchall()]
        if not failed:
            return
        params["failed"] = failed
        # The channel values (blobs) only those checkpoints use go too: they hold the failed
        # message, and for a new session no session row would ever lead retention to them.
        cursor.execute(_DELETE_FAILED_BLOBS, params)
        for table in ("checkpoint_writes", "checkpoints"):
            cursor.execute(
                f"DELETE FROM {table} WHERE thread_id = %(thread_id)s "  # noqa: S608
                "AND checkpoint_id = ANY(%(failed)s)",
                params,
            )


def _first(row: Any) -> Any:
    """A row's first column, whatever the connection's row factory (dict or tuple)."""
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


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
