"""The LangGraph checkpointer on PostgreSQL, and the housekeeping we do on its tables.

The saver owns its schema (created by its own `setup()` in the initial migration); we only
delete from it: a failed turn's checkpoints, a deleted session's thread, expired threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from langgraph.checkpoint.base.id import uuid6

if TYPE_CHECKING:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg_pool import ConnectionPool

CHECKPOINT_TABLES = ("checkpoint_writes", "checkpoint_blobs", "checkpoints")


def build_saver(url: str, *, max_size: int, statement_timeout_ms: int = 15_000) -> PostgresSaver:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    from agenthub.db.engine import libpq_url

    pool: ConnectionPool = ConnectionPool(
        libpq_url(url),
        min_size=1,
        max_size=max_size,
        # What the saver expects of its connections (see PostgresSaver.from_conn_string).
        kwargs={
            "autocommit": True,
            "prepare_threshold": 0,
            "row_factory": dict_row,
            "options": f"-c statement_timeout={statement_timeout_ms}",
            "connect_timeout": 5,
        },
        # A warm container's idle connection may have been closed (proxy idle timeout,
        # failover): check it before handing it out, as the SQLAlchemy pool's pre-ping does.
        check=ConnectionPool.check_connection,
        timeout=5,
        open=True,
        name="checkpointer",
    )
    return PostgresSaver(pool)  # type: ignore[arg-type]


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


def discard_since(saver: PostgresSaver, *, thread_id: str, marker: str) -> None:
    """Forget the checkpoints a failed turn wrote, so its half state never becomes memory."""
    with saver._cursor() as cur:
        cur.execute(
            _FAILED_CHECKPOINTS, {"thread_id": thread_id, "marker": marker, "key": TURN_KEY}
        )
        failed = [row["checkpoint_id"] for row in cur.fetchall()]
        if not failed:
            return
        # The channel values (blobs) only those checkpoints use go too: they hold the failed
        # message, and for a new session no session row would ever lead retention to them.
        cur.execute(_DELETE_FAILED_BLOBS, {"thread_id": thread_id, "failed": failed})
        for table in ("checkpoint_writes", "checkpoints"):
            cur.execute(
                f"DELETE FROM {table} WHERE thread_id = %s AND checkpoint_id = ANY(%s)",  # noqa: S608
                (thread_id, failed),
            )


def delete_threads(saver: PostgresSaver, thread_ids: Sequence[str]) -> int:
    """Remove every checkpoint, write and blob of these threads; returns checkpoints removed."""
    if not thread_ids:
        return 0
    ids = list(thread_ids)
    removed = 0
    with saver._cursor() as cur:
        for table in CHECKPOINT_TABLES:
            cur.execute(f"DELETE FROM {table} WHERE thread_id = ANY(%s)", (ids,))  # noqa: S608
            if table == "checkpoints":
                removed = cur.rowcount
    return removed


def count_threads(saver: PostgresSaver, thread_ids: Sequence[str]) -> int:
    """How many checkpoints these threads hold (what `delete_threads` would report)."""
    if not thread_ids:
        return 0
    with saver._cursor() as cur:
        cur.execute(
            "SELECT count(*) AS n FROM checkpoints WHERE thread_id = ANY(%s)", (list(thread_ids),)
        )
        row = cur.fetchone()
    return int(row["n"]) if row else 0
