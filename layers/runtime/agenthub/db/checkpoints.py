"""The LangGraph checkpointer on PostgreSQL, and the housekeeping we do on its tables.

The saver owns its schema (created by its own `setup()` in the initial migration; the tables
`checkpoints`, `checkpoint_blobs` and `checkpoint_writes`, each keyed by `thread_id`,
`checkpoint_ns` and the checkpoint id or channel version). We only delete from it - a failed
turn's checkpoints, a deleted session's thread, expired threads - with the SQL below, through
the engine (the saver's public `delete_thread` removes one thread at a time and cannot remove
single checkpoints). tests/integration/test_checkpoints.py runs this SQL against the schema the
installed saver creates, so a saver upgrade that changes it fails there first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base.id import uuid6

if TYPE_CHECKING:
    from langgraph.checkpoint.postgres import PostgresSaver
    from sqlalchemy import Engine

CHECKPOINT_TABLES = ("checkpoint_writes", "checkpoint_blobs", "checkpoints")


def saver_on_engine(engine: Engine) -> PostgresSaver:
    """A saver that borrows the SQLAlchemy engine's connections: one pool per container."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from agenthub.agents.results import CHECKPOINT_TYPES

    # Our turn results are in the checkpoint: allow them by name (no warning, strict-safe).
    serde = JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES)
    return PostgresSaver(_engine_pool_class()(engine), serde=serde)


@cache
def _engine_pool_class() -> type[Any]:
    """Defined on first use: psycopg_pool stays off the import path until a saver is built."""
    from psycopg.rows import dict_row, tuple_row
    from psycopg_pool import ConnectionPool

    class EnginePool(ConnectionPool):
        """psycopg_pool's `connection()` over the engine's pool.

        The saver accepts a psycopg `Connection` or `ConnectionPool` (isinstance), and takes a
        connection per operation with `pool.connection()`; this hands it one of the engine's
        (pre-pinged) connections, set up as the saver expects (autocommit, dict rows), and
        gives it back to the engine as SQLAlchemy left it. Nothing of ConnectionPool's own
        machinery (threads, connections) is started.
        """

        def __init__(self, engine: Engine) -> None:  # no super().__init__(): no pool of its own
            self._engine = engine
            self._closed = True  # for ConnectionPool.__del__: nothing to stop

        @contextmanager
        def connection(self, timeout: float | None = None) -> Iterator[Any]:
            proxied = self._engine.raw_connection()
            conn = proxied.driver_connection
            assert conn is not None
            try:
                conn.autocommit = True
                conn.row_factory = dict_row
                yield conn
            finally:
                try:
                    if not conn.closed:
                        conn.row_factory = tuple_row
                        conn.autocommit = False
                finally:
                    proxied.close()  # back to the engine's pool (it rolls back and resets)

        def close(self, timeout: float = 5.0) -> None:
            pass  # the engine owns the connections (disposed by composition.reset)

    return EnginePool


# Blobs are shared between checkpoints by (channel, version): keep any an older one still uses.
# Checkpoint metadata key naming the turn that wrote a checkpoint (LangGraph copies the run
# config's metadata into it), so a failed turn discards exactly its own checkpoints even when
# another turn of the same session ran meanwhile.
TURN_KEY = "agenthub_turn"

_FAILED_CHECKPOINTS = """
SELECT checkpoint_id FROM checkpoints
WHERE thread_id = :thread_id AND checkpoint_id > :marker
  AND metadata ->> :key = :marker
"""

_DELETE_FAILED_BLOBS = """
DELETE FROM checkpoint_blobs AS bl
USING checkpoints AS failed, jsonb_each_text(failed.checkpoint -> 'channel_versions') AS cv
WHERE failed.thread_id = :thread_id
  AND failed.checkpoint_id = ANY(:failed)
  AND bl.thread_id = failed.thread_id
  AND bl.checkpoint_ns = failed.checkpoint_ns
  AND bl.channel = cv.key
  AND bl.version = cv.value
  AND NOT EXISTS (
    SELECT 1 FROM checkpoints AS kept
    WHERE kept.thread_id = bl.thread_id
      AND kept.checkpoint_ns = bl.checkpoint_ns
      AND kept.checkpoint_id <> ALL(:failed)
      AND kept.checkpoint -> 'channel_versions' ->> bl.channel = bl.version
  )
"""


def turn_marker() -> str:
    """An id that sorts before every checkpoint id created after it (they are uuid6 too)."""
    return str(uuid6())


def turn_metadata(marker: str) -> dict[str, str]:
    """The run config metadata that tags every checkpoint of the turn started at `marker`."""
    return {TURN_KEY: marker}


def discard_since(engine: Engine, *, thread_id: str, marker: str) -> None:
    """Forget the checkpoints a failed turn wrote, so its half state never becomes memory."""
    from sqlalchemy import text

    with engine.begin() as conn:
        found = conn.execute(
            text(_FAILED_CHECKPOINTS), {"thread_id": thread_id, "marker": marker, "key": TURN_KEY}
        )
        failed = [row[0] for row in found]
        if not failed:
            return
        # The channel values (blobs) only those checkpoints use go too: they hold the failed
        # message, and for a new session no session row would ever lead retention to them.
        conn.execute(text(_DELETE_FAILED_BLOBS), {"thread_id": thread_id, "failed": failed})
        for table in ("checkpoint_writes", "checkpoints"):
            conn.execute(
                text(
                    f"DELETE FROM {table} WHERE thread_id = :thread_id "  # noqa: S608
                    "AND checkpoint_id = ANY(:failed)"
                ),
                {"thread_id": thread_id, "failed": failed},
            )


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
