"""The chat turn's rows in plain SQL (agenthub.db.chat_store) on real PostgreSQL: one statement
per turn, the same rows as the ORM repositories, tenant-scoped, attachments linked."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from psycopg_pool import ConnectionPool
from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.chat_store import ChatStore, NewMessage
from agenthub.db.engine import build_sessionmaker, engine_on_pool, transaction
from agenthub.db.pool import PoolConnection, build_pool
from agenthub.errors import ConflictError, NotFoundError
from agenthub.repositories import MessageRepository
from tests.integration.repo_builders import TENANT_A, TENANT_B, make_tenants
from tests.support.pg_exchanges import TracedConnection

pytest_plugins = ["tests.integration.repo_fixtures"]

ALICE, BOB = "alice", "bob"


@pytest.fixture
def store(pool: ConnectionPool[PoolConnection], repo_factory: sessionmaker[Session]) -> ChatStore:
    with transaction(repo_factory) as db:
        make_tenants(db, TENANT_A, TENANT_B)
    return ChatStore(pool)


def _turn(n: int, **extra: Any) -> tuple[NewMessage, NewMessage]:
    return (
        NewMessage(role="user", content=f"question {n}\nsecond line", data=extra.get("data")),
        NewMessage(
            role="assistant",
            content=f"answer {n}",
            agent="debt",
            format="card",
            renderer_hint="debt_card",
            data={"n": n, "nested": {"vnd": 1200000}},
            tool_calls=[{"name": "lookup", "args": {"n": n}, "ms": 12}],
            input_tokens=10,
            output_tokens=20,
            cost_usd=Decimal("0.00012345"),
            latency_ms=321,
            llm_model="offline",
            citations=extra.get("citations"),
        ),
    )


def _query(pool: ConnectionPool[PoolConnection], sql: str, *params: Any) -> list[dict[str, Any]]:
    with pool.connection() as conn:
        return conn.execute(sql, params).fetchall()


def _session(pool: ConnectionPool[PoolConnection], session_id: uuid.UUID) -> dict[str, Any]:
    rows = _query(pool, "SELECT * FROM sessions WHERE id = %s", session_id)
    assert len(rows) == 1
    return rows[0]


def _messages(pool: ConnectionPool[PoolConnection], session_id: uuid.UUID) -> list[dict[str, Any]]:
    # data/citations: JSON null and SQL NULL read back alike, so ask which one it is.
    return _query(
        pool,
        "SELECT *, data IS NULL AS data_is_sql_null, citations IS NULL AS citations_is_sql_null "
        "FROM messages WHERE session_id = %s ORDER BY seq",
        session_id,
    )


def _round_trips(pool: ConnectionPool[PoolConnection]) -> int:
    """The exchanges of the pool's one connection so far (none for this call itself)."""
    with pool.connection() as conn:
        assert isinstance(conn, TracedConnection)
        return conn.exchanges


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    """A row without what differs between two stores of the same turn (ids, clock)."""
    skip = {"id", "session_id", "created_at", "updated_at", "last_activity_at"}
    return {k: v for k, v in row.items() if k not in skip}


# --- a new session's turn ------------------------------------------------------------------------


def test_a_new_sessions_turn_is_the_session_and_its_two_messages_in_one_round_trip(
    store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    # GIVEN no session yet
    session_id = uuid.uuid4()
    user, assistant = _turn(1)
    before = _round_trips(pool)

    # WHEN the turn is stored
    stored = store.start_session(
        tenant_id=TENANT_A, user_id=ALICE, session_id=session_id, user=user, assistant=assistant
    )

    # THEN one round trip wrote (and committed) the session and both messages
    assert _round_trips(pool) - before == 1
    session = _session(pool, session_id)
    assert (session["tenant_id"], session["user_id"], session["message_count"]) == (
        TENANT_A,
        ALICE,
        2,
    )
    assert session["title"] == "question 1"
    assert session["turn_started_at"] is None
    assert session["created_at"] == session["updated_at"] == session["last_activity_at"]
    messages = _messages(pool, session_id)
    assert [(m["seq"], m["role"], m["content"]) for m in messages] == [
        (1, "user", "question 1\nsecond line"),
        (2, "assistant", "answer 1"),
    ]
    assert [m["id"] for m in messages] == [stored.user_message_id, stored.assistant_message_id]
    assert stored.seq == 2 and stored.session_id == session_id
    answer = messages[1]
    assert answer["data"] == {"n": 1, "nested": {"vnd": 1200000}}
    assert answer["cost_usd"] == Decimal("0.00012345")
    assert answer["tool_calls"] == [{"name": "lookup", "args": {"n": 1}, "ms": 12}]
    assert all(m["created_at"] == session["created_at"] for m in messages)


def test_a_new_sessions_rows_are_those_the_orm_writes_in_fewer_round_trips(
    store: ChatStore, pool: ConnectionPool[PoolConnection], database_url: str
) -> None:
    # GIVEN the same turn, once through the ORM repository (on an engine drawing from the same
    # pool) and once through the store (with an attachment note on the user message and no
    # citations on the answer)
    user, assistant = _turn(1, data={"attachments": [{"upload_id": "u1"}]})
    by_orm, by_store = uuid.uuid4(), uuid.uuid4()
    engine = engine_on_pool(pool, database_url)
    with engine.connect():
        pass  # the dialect's first-connect queries, not part of a turn
    start = _round_trips(pool)
    with transaction(build_sessionmaker(engine)) as db:
        MessageRepository(db).start_session(
            tenant_id=TENANT_A, user_id=ALICE, session_id=by_orm, user=user, assistant=assistant
        )
    orm_round_trips = _round_trips(pool) - start
    start = _round_trips(pool)
    store.start_session(
        tenant_id=TENANT_A, user_id=ALICE, session_id=by_store, user=user, assistant=assistant
    )

    # THEN every column but ids and clock times is the same, in 1 round trip where the ORM's
    # transaction, savepoint and INSERTs take 5
    assert (_round_trips(pool) - start, orm_round_trips) == (1, 5)
    assert _comparable(_session(pool, by_store)) == _comparable(_session(pool, by_orm))
    orm_rows = [_comparable(m) for m in _messages(pool, by_orm)]
    assert [_comparable(m) for m in _messages(pool, by_store)] == orm_rows
    assert orm_rows[0]["tool_calls"] == []


def test_a_duplicate_session_id_is_a_conflict_and_changes_nothing(
    store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    session_id = uuid.uuid4()
    user, assistant = _turn(1)
    store.start_session(
        tenant_id=TENANT_A, user_id=ALICE, session_id=session_id, user=user, assistant=assistant
    )

    with pytest.raises(ConflictError, match=f"session {session_id} already exists"):
        store.start_session(
            tenant_id=TENANT_A, user_id=ALICE, session_id=session_id, user=user, assistant=assistant
        )

    assert _session(pool, session_id)["message_count"] == 2
    assert len(_messages(pool, session_id)) == 2


def test_a_turn_for_a_tenant_that_does_not_exist_is_not_found_and_writes_nothing(
    store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    session_id = uuid.uuid4()
    user, assistant = _turn(1)

    with pytest.raises(NotFoundError, match="refers to a row that does not exist"):
        store.start_session(
            tenant_id="nobody", user_id=ALICE, session_id=session_id, user=user, assistant=assistant
        )

    assert _query(pool, "SELECT count(*) AS n FROM messages")[0]["n"] == 0


# --- an existing session's turn ------------------------------------------------------------------


def _started(store: ChatStore, tenant_id: str = TENANT_A, user_id: str = ALICE) -> uuid.UUID:
    session_id = uuid.uuid4()
    user, assistant = _turn(0)
    store.start_session(
        tenant_id=tenant_id, user_id=user_id, session_id=session_id, user=user, assistant=assistant
    )
    return session_id


def test_an_appended_turn_takes_the_next_seqs_and_releases_the_claim_in_one_round_trip(
    store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    # GIVEN a session with one turn, whose next turn is being answered
    session_id = _started(store)
    assert store.claim_turn(
        tenant_id=TENANT_A, user_id=ALICE, session_id=session_id, stale_after_s=60
    )
    first = _session(pool, session_id)
    assert first["turn_started_at"] is not None
    user, assistant = _turn(2)
    before = _round_trips(pool)

    # WHEN the answered turn is stored
    stored = store.append_turn(
        tenant_id=TENANT_A, user_id=ALICE, session_id=session_id, user=user, assistant=assistant
    )

    # THEN in one round trip: seqs 3 and 4, counters moved on, claim released, title kept
    assert _round_trips(pool) - before == 1
    assert stored.seq == 4
    session = _session(pool, session_id)
    assert session["message_count"] == 4
    assert session["turn_started_at"] is None
    assert session["title"] == "question 0"
    assert session["last_activity_at"] > first["last_activity_at"]
    assert session["updated_at"] == session["last_activity_at"]
    assert session["created_at"] == first["created_at"]
    assert [(m["seq"], m["content"]) for m in _messages(pool, session_id)] == [
        (1, "question 0\nsecond line"),
        (2, "answer 0"),
        (3, "question 2\nsecond line"),
        (4, "answer 2"),
    ]


def test_an_appended_turns_rows_are_those_the_orm_writes(
    store: ChatStore, pool: ConnectionPool[PoolConnection], repo_factory: sessionmaker[Session]
) -> None:
    # GIVEN two equal sessions, each with one turn, and a session without a title
    by_orm, by_store = _started(store), _started(store)
    citations = [{"document_id": "d1", "title": "Policy", "snippet": "...", "score": 0.9}]
    user, assistant = _turn(5, citations=citations)
    untitled = _started(store)
    with pool.connection() as conn:
        conn.execute("UPDATE sessions SET title = '' WHERE id = ANY(%s)", ([by_orm, by_store],))

    # WHEN the same turn is appended through the ORM and through the store
    with transaction(repo_factory) as db:
        MessageRepository(db).append_turn(
            tenant_id=TENANT_A, session_id=by_orm, user=user, assistant=assistant
        )
    store.append_turn(
        tenant_id=TENANT_A, user_id=ALICE, session_id=by_store, user=user, assistant=assistant
    )

    # THEN the same columns (an empty title taken from the new question, as the ORM does)
    assert _comparable(_session(pool, by_store)) == _comparable(_session(pool, by_orm))
    assert _session(pool, by_store)["title"] == "question 5"
    assert [_comparable(m) for m in _messages(pool, by_store)] == [
        _comparable(m) for m in _messages(pool, by_orm)
    ]
    assert _messages(pool, by_store)[-1]["citations"] == citations
    assert _session(pool, untitled)["message_count"] == 2


def test_appending_to_a_session_that_does_not_exist_is_not_found_and_writes_nothing(
    store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    missing = uuid.uuid4()
    user, assistant = _turn(1)

    with pytest.raises(NotFoundError, match=f"session {missing} of tenant 'tenant-a' not found"):
        store.append_turn(
            tenant_id=TENANT_A, user_id=ALICE, session_id=missing, user=user, assistant=assistant
        )

    assert (
        _query(pool, "SELECT count(*) AS n FROM messages WHERE session_id = %s", missing)[0]["n"]
        == 0
    )


def test_another_tenants_session_is_not_found_and_left_untouched(
    store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    # GIVEN a session of tenant B, claimed by its turn in progress
    theirs = _started(store, tenant_id=TENANT_B)
    assert store.claim_turn(tenant_id=TENANT_B, user_id=ALICE, session_id=theirs, stale_after_s=60)
    before = _session(pool, theirs)
    user, assistant = _turn(1)

    # WHEN tenant A (same user id) appends to it, claims it or releases it
    with pytest.raises(NotFoundError):
        store.append_turn(
            tenant_id=TENANT_A, user_id=ALICE, session_id=theirs, user=user, assistant=assistant
        )
    claimed = store.claim_turn(
        tenant_id=TENANT_A, user_id=ALICE, session_id=theirs, stale_after_s=0
    )
    store.release_turn(tenant_id=TENANT_A, session_id=theirs)

    # THEN it does not exist for A, and B's session is as it was
    assert claimed is None
    assert _session(pool, theirs) == before
    assert len(_messages(pool, theirs)) == 2


# --- attachments ---------------------------------------------------------------------------------


def _upload(
    pool: ConnectionPool[PoolConnection],
    *,
    tenant_id: str = TENANT_A,
    user_id: str = ALICE,
    session_id: uuid.UUID | None = None,
) -> uuid.UUID:
    upload_id = uuid.uuid4()
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO uploads (id, tenant_id, user_id, session_id, object_key, filename, "
            "content_type, declared_size, status, expires_at) "
            "VALUES (%s, %s, %s, %s, %s, 'a.png', 'image/png', 10, 'ready', %s)",
            (
                upload_id,
                tenant_id,
                user_id,
                session_id,
                f"tenant/{tenant_id}/user/{user_id}/uploads/{upload_id}",
                datetime.now(UTC) + timedelta(hours=1),
            ),
        )
    return upload_id


def _upload_session(pool: ConnectionPool[PoolConnection], upload_id: uuid.UUID) -> Any:
    return _query(pool, "SELECT session_id FROM uploads WHERE id = %s", upload_id)[0]["session_id"]


def test_a_turns_attachments_are_linked_to_its_session_in_the_same_statement(
    store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    # GIVEN two of Alice's uploads, one of Bob's, one of another tenant's Alice, and one of
    # Alice's already sent in another conversation
    other_conversation = _started(store)
    mine = [_upload(pool), _upload(pool)]
    bobs = _upload(pool, user_id=BOB)
    other_tenants = _upload(pool, tenant_id=TENANT_B)
    sent_before = _upload(pool, session_id=other_conversation)
    session_id = uuid.uuid4()
    user, assistant = _turn(1)
    before = _round_trips(pool)

    # WHEN Alice's new conversation's first turn is stored with all their ids
    stored = store.start_session(
        tenant_id=TENANT_A,
        user_id=ALICE,
        session_id=session_id,
        user=user,
        assistant=assistant,
        upload_ids=[*mine, bobs, other_tenants, sent_before],
    )

    # THEN only her own unsent uploads now belong to it, in the turn's one round trip
    assert _round_trips(pool) - before == 1
    assert stored.linked_uploads == 2
    assert [_upload_session(pool, u) for u in mine] == [session_id, session_id]
    assert _upload_session(pool, bobs) is None
    assert _upload_session(pool, other_tenants) is None
    assert _upload_session(pool, sent_before) == other_conversation

    # AND a later turn links its own new upload to the same session
    later = _upload(pool)
    user, assistant = _turn(2)
    appended = store.append_turn(
        tenant_id=TENANT_A,
        user_id=ALICE,
        session_id=session_id,
        user=user,
        assistant=assistant,
        upload_ids=[later, mine[0]],
    )
    assert appended.linked_uploads == 1
    assert _upload_session(pool, later) == session_id


def test_an_attachment_of_a_turn_that_is_not_stored_stays_unlinked(
    store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    upload_id = _upload(pool)
    user, assistant = _turn(1)

    with pytest.raises(NotFoundError):
        store.append_turn(
            tenant_id=TENANT_A,
            user_id=ALICE,
            session_id=uuid.uuid4(),
            user=user,
            assistant=assistant,
            upload_ids=[upload_id],
        )

    assert _upload_session(pool, upload_id) is None


# --- one turn at a time per session ----------------------------------------------------------


def test_a_sessions_turn_is_claimed_once_until_released_or_stale(
    store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    session_id = _started(store)

    def claim(user_id: str = ALICE, stale_after_s: float = 60) -> bool | None:
        return store.claim_turn(
            tenant_id=TENANT_A, user_id=user_id, session_id=session_id, stale_after_s=stale_after_s
        )

    before = _round_trips(pool)
    assert claim() is True
    assert _round_trips(pool) - before == 1
    assert claim() is False  # a double submit
    assert claim(user_id=BOB) is None  # not Bob's session
    assert claim(stale_after_s=0) is True  # a claim older than the limit is taken over
    store.release_turn(tenant_id=TENANT_A, session_id=session_id)
    assert _session(pool, session_id)["turn_started_at"] is None
    assert claim() is True


def test_concurrent_turns_of_one_session_get_distinct_seqs(
    database_url: str, store: ChatStore, pool: ConnectionPool[PoolConnection]
) -> None:
    session_id = _started(store)
    wide = build_pool(database_url, max_size=4, statement_timeout_ms=None)
    try:
        concurrent = ChatStore(wide)
        barrier = threading.Barrier(4)

        def append(n: int) -> None:
            user, assistant = _turn(n)
            barrier.wait()
            concurrent.append_turn(
                tenant_id=TENANT_A,
                user_id=ALICE,
                session_id=session_id,
                user=user,
                assistant=assistant,
            )

        threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        wide.close()

    assert [m["seq"] for m in _messages(pool, session_id)] == list(range(1, 11))
    assert _session(pool, session_id)["message_count"] == 10
