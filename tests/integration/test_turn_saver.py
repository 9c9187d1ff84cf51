"""A chat turn's checkpoint commits with the turn's rows (agenthub.db.turn_saver): on real
PostgreSQL, with the rows the real saver writes, in one commit, or nothing at all."""

from __future__ import annotations

import concurrent.futures
import uuid
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from psycopg_pool import ConnectionPool
from sqlalchemy.orm import Session, sessionmaker

from agenthub.agents.graph import new_turn_input
from agenthub.agents.results import CHECKPOINT_TYPES
from agenthub.db.chat_store import ChatStore, NewMessage
from agenthub.db.checkpoints import turn_marker, turn_metadata
from agenthub.db.engine import transaction
from agenthub.db.pool import PoolConnection, build_pool
from agenthub.db.turn_saver import TurnSaver
from agenthub.errors import NotFoundError
from tests.integration.repo_builders import TENANT_A, make_tenants
from tests.support.offline_graph import offline_turn_graph
from tests.support.pg_exchanges import TracedConnection

pytest_plugins = ["tests.integration.repo_fixtures"]

ALICE = "alice"


@pytest.fixture
def saver(pool: ConnectionPool[PoolConnection]) -> TurnSaver:
    return TurnSaver(pool, serde=JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES))


@pytest.fixture
def store(pool: ConnectionPool[PoolConnection], repo_factory: sessionmaker[Session]) -> ChatStore:
    with transaction(repo_factory) as db:
        make_tenants(db, TENANT_A)
    return ChatStore(pool)


def _graph(saver: TurnSaver) -> Any:
    return offline_turn_graph(saver, tenant_id=TENANT_A)


def _run(graph: Any, thread: str, marker: str, message: str = "hello") -> None:
    config = {"configurable": {"thread_id": thread}, "metadata": turn_metadata(marker)}
    graph.invoke(new_turn_input(HumanMessage(message)), config, durability="exit")


def _checkpoints(pool: ConnectionPool[PoolConnection], thread: str) -> int:
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM checkpoints WHERE thread_id = %s", (thread,)
        ).fetchone()
    assert row is not None
    return int(row["n"])


def _exchanges(pool: ConnectionPool[PoolConnection]) -> int:
    """The round trips of the pool's one connection so far (none for this call itself)."""
    with pool.connection() as conn:
        assert isinstance(conn, TracedConnection)
        return conn.exchanges


def _turn() -> tuple[NewMessage, NewMessage]:
    return NewMessage(role="user", content="hello"), NewMessage(role="assistant", content="Hi!")


def _start_session(store: ChatStore, checkpoint: Any, session_id: uuid.UUID | None = None) -> None:
    """A new session's turn, stored with `checkpoint`."""
    user, assistant = _turn()
    store.start_session(
        tenant_id=TENANT_A,
        user_id=ALICE,
        session_id=session_id or uuid.uuid4(),
        user=user,
        assistant=assistant,
        checkpoint=checkpoint,
    )


def _append_turn(store: ChatStore, checkpoint: Any, session_id: uuid.UUID) -> None:
    """A turn of the session `session_id`, stored with `checkpoint`."""
    user, assistant = _turn()
    store.append_turn(
        tenant_id=TENANT_A,
        user_id=ALICE,
        session_id=session_id,
        user=user,
        assistant=assistant,
        checkpoint=checkpoint,
    )


def test_a_held_checkpoint_is_written_with_the_turns_rows_in_one_commit(
    saver: TurnSaver, store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    # GIVEN a turn run while its checkpoint is held
    graph, thread, marker, session_id = _graph(saver), "t-held", turn_marker(), uuid.uuid4()
    with saver.hold(marker) as held:
        _run(graph, thread, marker)
        # THEN nothing is written by the run itself
        assert held and _checkpoints(pool, thread) == 0

        # WHEN the turn's rows are stored with it
        _start_session(store, held, session_id)

    # THEN the checkpoint and the rows are there, and the conversation remembers the turn
    assert _checkpoints(pool, thread) == 1
    with pool.connection() as conn:
        assert conn.execute("SELECT 1 FROM sessions WHERE id = %s", (session_id,)).fetchone()
    state = graph.get_state({"configurable": {"thread_id": thread}})
    assert state.values["messages"][0].content == "hello"


def _stored_checkpoint(pool: ConnectionPool[PoolConnection], thread: str) -> dict[str, Any]:
    """Every column of the thread's checkpoint rows, but the thread id."""
    with pool.connection() as conn:
        checkpoints = conn.execute(
            "SELECT checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, "
            "metadata FROM checkpoints WHERE thread_id = %s ORDER BY checkpoint_id",
            (thread,),
        ).fetchall()
        blobs = conn.execute(
            "SELECT checkpoint_ns, channel, version, type, blob FROM checkpoint_blobs "
            "WHERE thread_id = %s ORDER BY channel, version",
            (thread,),
        ).fetchall()
        writes = conn.execute(
            "SELECT count(*) AS n FROM checkpoint_writes WHERE thread_id = %s", (thread,)
        ).fetchone()
    return {"checkpoints": checkpoints, "blobs": blobs, "writes": writes}


def test_a_held_checkpoint_is_stored_as_the_rows_the_saver_itself_writes(
    saver: TurnSaver, store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    # GIVEN a held turn (one checkpoint, its messages and turn results in blobs)
    graph, thread, marker = _graph(saver), "t-rows", turn_marker()
    with saver.hold(marker) as held:
        _run(graph, thread, marker)
        assert held.rows() is not None  # stored as rows of the turn's own statement
        # AND the rows PostgresSaver.put itself writes for it
        with pool.connection() as conn, conn.transaction():
            held.write(conn)
        by_saver = _stored_checkpoint(pool, thread)
        with pool.connection() as conn:
            for table in ("checkpoints", "checkpoint_blobs"):
                conn.execute(f"DELETE FROM {table} WHERE thread_id = %s", (thread,))

        # WHEN the turn's rows are stored with it
        _start_session(store, held)

    # THEN the same rows are stored, column for column
    assert by_saver["blobs"] and len(by_saver["checkpoints"]) == 1
    assert _stored_checkpoint(pool, thread) == by_saver
    state = graph.get_state({"configurable": {"thread_id": thread}})
    assert state.values["messages"][0].content == "hello"


class _SaverWritten:
    """A held checkpoint that cannot be rows of the turn's statement (as one with delta
    channels): the saver writes it in the turn's transaction."""

    def __init__(self, held: Any) -> None:
        self._held = held

    def rows(self) -> None:
        return None

    def write(self, conn: Any) -> None:
        self._held.write(conn)


def test_a_checkpoint_that_cannot_be_rows_is_written_by_the_saver_with_the_turn(
    saver: TurnSaver, store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    graph, thread, marker, missing = _graph(saver), "t-saver", turn_marker(), uuid.uuid4()
    with saver.hold(marker) as held:
        _run(graph, thread, marker)
        checkpoint = _SaverWritten(held)
        # a refused turn keeps nothing of it
        with pytest.raises(NotFoundError):
            _append_turn(store, checkpoint, missing)
        assert _checkpoints(pool, thread) == 0

        # a stored one keeps it
        _start_session(store, checkpoint)

    assert _checkpoints(pool, thread) == 1


def test_a_turn_whose_rows_are_refused_keeps_no_checkpoint(
    saver: TurnSaver, store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    # GIVEN a turn held for a session that does not exist
    graph, thread, marker, missing = _graph(saver), "t-refused", turn_marker(), uuid.uuid4()
    with saver.hold(marker) as held:
        _run(graph, thread, marker)

        # WHEN its rows are refused
        with pytest.raises(NotFoundError):
            _append_turn(store, held, missing)

    # THEN its checkpoint went with them: the conversation remembers nothing of it
    assert _checkpoints(pool, thread) == 0


def test_a_hold_that_ends_unwritten_leaves_nothing_and_later_runs_write_through(
    saver: TurnSaver, pool: ConnectionPool[PoolConnection]
) -> None:
    graph, thread = _graph(saver), "t-dropped"
    with saver.hold(marker := turn_marker()):
        _run(graph, thread, marker)  # the turn fails after its run: nothing stored
    assert _checkpoints(pool, thread) == 0

    _run(graph, thread, turn_marker())  # not held: the saver writes at once, as PostgresSaver

    assert _checkpoints(pool, thread) == 1


def test_a_turn_that_starts_its_thread_reads_no_checkpoint_and_is_remembered(
    saver: TurnSaver, store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    # GIVEN a new session's first turn, held as one that starts its thread
    graph, thread, marker, session_id = _graph(saver), "t-new", turn_marker(), uuid.uuid4()
    exchanges = _exchanges(pool)
    with saver.hold(marker, new_thread=True) as held:
        # WHEN it runs
        _run(graph, thread, marker)

        # THEN it asked PostgreSQL nothing (there is nothing stored for a new thread)
        assert _exchanges(pool) == exchanges
        _start_session(store, held, session_id)

    # AND its checkpoint is stored, and read by the session's next turn
    _run(graph, thread, turn_marker(), "and again")
    state = graph.get_state({"configurable": {"thread_id": thread}})
    assert [m.content for m in state.values["messages"] if m.type == "human"] == [
        "hello",
        "and again",
    ]


def test_only_the_turn_holding_its_marker_is_held(
    saver: TurnSaver, pool: ConnectionPool[PoolConnection]
) -> None:
    graph = _graph(saver)
    with saver.hold(turn_marker()) as held:
        _run(graph, "t-other", turn_marker())  # another turn, in the same container

    assert not held
    assert _checkpoints(pool, "t-other") == 1


def test_one_turns_reads_do_not_wait_for_anothers_on_the_same_container(
    database_url: str,
) -> None:
    """PostgresSaver serialises every call on one lock (one shared connection needs it); on
    the pool, a turn still reading its checkpoints does not hold up another turn's."""
    pool = build_pool(database_url, max_size=2, statement_timeout_ms=None)
    try:
        saver = TurnSaver(pool, serde=JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES))
        graph = _graph(saver)
        for thread in ("t-1", "t-2"):
            _run(graph, thread, turn_marker())
        # GIVEN one turn in the middle of reading its thread's checkpoints
        listing = saver.list({"configurable": {"thread_id": "t-1"}})
        assert next(listing) is not None

        # WHEN another turn reads its own
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as other:
            read = other.submit(saver.get_tuple, {"configurable": {"thread_id": "t-2"}})
            try:
                # THEN it gets it without waiting for the first
                assert read.result(timeout=10) is not None
            finally:
                listing.close()  # (else a waiting read would wait for ever)
    finally:
        pool.close()
