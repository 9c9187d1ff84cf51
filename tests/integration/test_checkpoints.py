"""Checkpoint housekeeping on the real PostgresSaver: whole threads go, and no other thread's
rows (a failed turn writes nothing to remove: tests/integration/test_turn_saver.py)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage
from sqlalchemy import text

from agenthub.agents.graph import new_turn_input
from agenthub.db.checkpoints import (
    count_threads,
    delete_threads,
    turn_marker,
    turn_metadata,
)
from tests.support.offline_graph import offline_turn_graph

THREAD = "tenant_acme__user_alice__session_s1"


def _graph() -> Any:
    from agenthub.composition import get_checkpointer

    return offline_turn_graph(get_checkpointer())


def _run(graph: Any, message: str, marker: str) -> None:
    config = {"configurable": {"thread_id": THREAD}, "metadata": turn_metadata(marker)}
    graph.invoke(new_turn_input(HumanMessage(message)), config, durability="exit")


def _rows(table: str) -> int:
    from agenthub.composition import get_engine

    with get_engine().connect() as conn:
        return int(
            conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE thread_id = :t"),
                {"t": THREAD},
            ).scalar_one()
        )


def test_deleting_threads_removes_all_their_rows_and_no_other_threads(app_env: None) -> None:
    from agenthub.composition import get_engine

    graph = _graph()
    _run(graph, "hello", turn_marker())
    other = "tenant_acme__user_bob__session_s2"
    graph.invoke(
        new_turn_input(HumanMessage("hi")),
        {"configurable": {"thread_id": other}},
        durability="exit",
    )
    held = count_threads(get_engine(), [THREAD])
    assert held == _rows("checkpoints") > 0

    removed = delete_threads(get_engine(), [THREAD])

    assert removed == held
    assert [_rows(t) for t in ("checkpoints", "checkpoint_blobs", "checkpoint_writes")] == [0, 0, 0]
    assert count_threads(get_engine(), [THREAD, other]) == count_threads(get_engine(), [other]) > 0


def test_the_saver_the_chat_store_and_the_engine_share_one_pool(app_env: None) -> None:
    """One PostgreSQL pool per container: the checkpointer, the chat store and SQLAlchemy all
    draw from the psycopg pool, set up without prepared statements (they would pin RDS Proxy
    sessions); the engine borrows a connection in transaction mode and gives it back in the
    saver's mode."""
    from psycopg.rows import dict_row

    from agenthub.composition import get_chat_store, get_checkpointer, get_engine, get_pool

    graph = _graph()
    _run(graph, "hello", turn_marker())
    pool = get_pool()
    assert get_checkpointer().conn is pool
    assert get_chat_store()._pool is pool
    assert pool.get_stats()["pool_max"] >= 1
    with pool.connection() as conn:
        assert conn.autocommit and conn.prepare_threshold is None
        assert conn.row_factory is dict_row
    with get_engine().connect() as sa_conn:
        raw = sa_conn.connection.driver_connection
        assert raw is not None and raw._pool is pool  # a connection of the pool, lent
        assert not raw.autocommit and raw.prepare_threshold is None
        assert sa_conn.execute(text("SELECT 1")).scalar_one() == 1
        assert len(raw._notice_handlers) == 1  # SQLAlchemy's logger, while it holds it
    # given back, in the saver's mode, without SQLAlchemy's notice logger
    assert not raw.closed and raw in pool._pool  # idle in the pool again
    assert raw.autocommit and raw.row_factory is dict_row
    assert raw._notice_handlers == []
    stats = pool.get_stats()
    assert stats["pool_size"] == stats["pool_available"]  # nothing left checked out
