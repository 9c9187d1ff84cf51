"""ChatSessionRepository and MessageRepository: per-user sessions, keyset pages, whole turns."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.engine import transaction
from agenthub.db.models import ChatSession, MessageRole
from agenthub.errors import BadRequestError, NotFoundError
from agenthub.repositories import ChatSessionRepository, MessageRepository, NewMessage
from tests.integration.repo_builders import TENANT_A, TENANT_B, make_tenants

pytest_plugins = ["tests.integration.repo_fixtures"]

ALICE = "alice"
BOB = "bob"


def _turn(n: int) -> tuple[NewMessage, NewMessage]:
    return (
        NewMessage(role="user", content=f"question {n}"),
        NewMessage(
            role=MessageRole.ASSISTANT,
            content=f"answer {n}",
            agent="debt",
            format="text",
            renderer_hint="markdown",
            data={"n": n},
            tool_calls=[{"name": "lookup", "args": {"n": n}}],
            input_tokens=10,
            output_tokens=20,
            cost_usd=Decimal("0.00012"),
            latency_ms=321,
            llm_model="gpt-4o-mini",
        ),
    )


@pytest.fixture
def tenants(repo_db: Session) -> None:
    make_tenants(repo_db, TENANT_A, TENANT_B)


def test_create_returns_a_loaded_session(repo_factory: sessionmaker[Session]) -> None:
    fixed_id = uuid.uuid4()
    with transaction(repo_factory) as db:
        make_tenants(db, TENANT_A)
        created = ChatSessionRepository(db).create(
            tenant_id=TENANT_A, user_id=ALICE, session_id=fixed_id
        )
    assert created.id == fixed_id
    assert (created.title, created.message_count) == ("", 0)
    assert created.last_activity_at.tzinfo is not None


@pytest.mark.usefixtures("tenants")
def test_a_session_is_visible_only_to_its_user_in_its_tenant(repo_db: Session) -> None:
    """Cross-tenant and cross-user: get, list and delete never reach another's session."""
    sessions = ChatSessionRepository(repo_db)
    mine = sessions.create(tenant_id=TENANT_A, user_id=ALICE, title="mine")
    # Same user id in another tenant, and another user in the same tenant
    theirs = sessions.create(tenant_id=TENANT_B, user_id=ALICE, title="tenant b")
    sessions.create(tenant_id=TENANT_A, user_id=BOB, title="bob's")

    assert sessions.get(tenant_id=TENANT_A, user_id=ALICE, session_id=mine.id) is mine
    assert sessions.get(tenant_id=TENANT_B, user_id=ALICE, session_id=mine.id) is None
    assert sessions.get(tenant_id=TENANT_A, user_id=BOB, session_id=mine.id) is None
    assert [s.title for s in sessions.list(tenant_id=TENANT_B, user_id=ALICE)[0]] == ["tenant b"]
    assert [s.title for s in sessions.list(tenant_id=TENANT_A, user_id=BOB)[0]] == ["bob's"]

    assert sessions.delete(tenant_id=TENANT_B, user_id=ALICE, session_id=mine.id) is False
    assert sessions.delete(tenant_id=TENANT_A, user_id=BOB, session_id=mine.id) is False
    assert sessions.get(tenant_id=TENANT_A, user_id=ALICE, session_id=mine.id) is not None
    assert sessions.delete(tenant_id=TENANT_B, user_id=ALICE, session_id=theirs.id) is True
    assert sessions.get(tenant_id=TENANT_B, user_id=ALICE, session_id=theirs.id) is None


@pytest.mark.usefixtures("tenants")
def test_pages_are_stable_when_activity_timestamps_are_equal(repo_db: Session) -> None:
    # GIVEN seven sessions created in one transaction: now() gives them the same timestamp
    sessions = ChatSessionRepository(repo_db)
    created = [sessions.create(tenant_id=TENANT_A, user_id=ALICE) for _ in range(7)]
    assert len({s.last_activity_at for s in created}) == 1
    # WHEN they are read three at a time, with a newer session arriving between pages
    first, cursor = sessions.list(tenant_id=TENANT_A, user_id=ALICE, limit=3)
    newer = sessions.create(tenant_id=TENANT_A, user_id=ALICE, title="newer")
    _set_activity(repo_db, newer.id, created[0].last_activity_at + timedelta(seconds=1))
    second, cursor2 = sessions.list(tenant_id=TENANT_A, user_id=ALICE, limit=3, cursor=cursor)
    third, end = sessions.list(tenant_id=TENANT_A, user_id=ALICE, limit=3, cursor=cursor2)
    # THEN every original session appears exactly once, in (activity, id) descending order
    seen = [s.id for s in first + second + third]
    assert seen == sorted((s.id for s in created), reverse=True)
    assert (len(first), len(second), len(third), end) == (3, 3, 1, None)


def test_newest_activity_comes_first(repo_factory: sessionmaker[Session]) -> None:
    with transaction(repo_factory) as db:
        make_tenants(db, TENANT_A)
        sessions = ChatSessionRepository(db)
        old = sessions.create(tenant_id=TENANT_A, user_id=ALICE, title="old")
        sessions.create(tenant_id=TENANT_A, user_id=ALICE, title="quiet")
    with transaction(repo_factory) as db:
        # A later transaction: the old session gets new activity
        MessageRepository(db).append_turn(
            tenant_id=TENANT_A, session_id=old.id, user=_turn(1)[0], assistant=_turn(1)[1]
        )
    with transaction(repo_factory) as db:
        page, cursor = ChatSessionRepository(db).list(tenant_id=TENANT_A, user_id=ALICE)
    assert [s.title for s in page] == ["old", "quiet"]
    assert cursor is None


@pytest.mark.usefixtures("tenants")
@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "e30",
        "eyJhIjoxLCJpIjoyfQ",
        "!!",
        "eyJhIjogIjIwMjQtMDEtMDFUMDA6MDA6MDArMDA6MDAiLCAiaSI6IDV9",  # id is a number
        "WyJ4Il0",  # a list, not an object
    ],
)
def test_a_tampered_cursor_is_a_bad_request(repo_db: Session, cursor: str) -> None:
    with pytest.raises(BadRequestError, match="cursor"):
        ChatSessionRepository(repo_db).list(tenant_id=TENANT_A, user_id=ALICE, cursor=cursor)


@pytest.mark.parametrize("limit", [0, 101])
def test_page_size_is_bounded(repo_db: Session, limit: int) -> None:
    with pytest.raises(BadRequestError, match="limit"):
        ChatSessionRepository(repo_db).list(tenant_id=TENANT_A, user_id=ALICE, limit=limit)


@pytest.mark.usefixtures("tenants")
def test_expired_lists_the_tenant_idle_sessions_oldest_first(repo_db: Session) -> None:
    sessions = ChatSessionRepository(repo_db)
    now = datetime.now(UTC)
    ages = {"a-40d": 40, "a-100d": 100, "a-1d": 1}
    for title, days in ages.items():
        s = sessions.create(tenant_id=TENANT_A, user_id=ALICE, title=title)
        _set_activity(repo_db, s.id, now - timedelta(days=days))
    b_old = sessions.create(tenant_id=TENANT_B, user_id=ALICE, title="b-100d")
    _set_activity(repo_db, b_old.id, now - timedelta(days=100))

    cutoff = now - timedelta(days=30)
    expired = sessions.expired(tenant_id=TENANT_A, older_than=cutoff, limit=10)
    assert [s.title for s in expired] == ["a-100d", "a-40d"]
    assert [s.title for s in sessions.expired(tenant_id=TENANT_A, older_than=cutoff, limit=1)] == [
        "a-100d"
    ]


@pytest.mark.usefixtures("tenants")
def test_append_turn_numbers_messages_and_updates_the_session(repo_db: Session) -> None:
    chat = ChatSessionRepository(repo_db).create(tenant_id=TENANT_A, user_id=ALICE)
    messages = MessageRepository(repo_db)
    long_question = "  What is the debt\nfor MST 0123456789?  "
    user, assistant = messages.append_turn(
        tenant_id=TENANT_A,
        session_id=chat.id,
        user=NewMessage(role="user", content=long_question),
        assistant=_turn(1)[1],
    )
    messages.append_turn(
        tenant_id=TENANT_A, session_id=chat.id, user=_turn(2)[0], assistant=_turn(2)[1]
    )
    assert (user.seq, assistant.seq) == (1, 2)
    stored = messages.list(tenant_id=TENANT_A, session_id=chat.id)
    assert [(m.seq, m.role, m.content) for m in stored] == [
        (1, MessageRole.USER, long_question),
        (2, MessageRole.ASSISTANT, "answer 1"),
        (3, MessageRole.USER, "question 2"),
        (4, MessageRole.ASSISTANT, "answer 2"),
    ]
    answer = stored[3]
    assert (answer.agent, answer.data, answer.cost_usd, answer.latency_ms) == (
        "debt",
        {"n": 2},
        Decimal("0.00012000"),
        321,
    )
    assert answer.tool_calls == [{"name": "lookup", "args": {"n": 2}}]
    # The session counts messages and took its title from the first question, once.
    assert chat.message_count == 4
    assert chat.title == "What is the debt"
    assert [m.seq for m in messages.list(tenant_id=TENANT_A, session_id=chat.id, after_seq=2)] == [
        3,
        4,
    ]
    assert [m.seq for m in messages.list(tenant_id=TENANT_A, session_id=chat.id, limit=1)] == [1]


@pytest.mark.usefixtures("tenants")
def test_append_turn_keeps_a_given_title_and_shortens_long_first_lines(repo_db: Session) -> None:
    sessions = ChatSessionRepository(repo_db)
    messages = MessageRepository(repo_db)
    titled = sessions.create(tenant_id=TENANT_A, user_id=ALICE, title="Given")
    untitled = sessions.create(tenant_id=TENANT_A, user_id=ALICE)
    for chat in (titled, untitled):
        messages.append_turn(
            tenant_id=TENANT_A,
            session_id=chat.id,
            user=NewMessage(role="user", content="x" * 300),
            assistant=_turn(1)[1],
        )
    assert titled.title == "Given"
    assert len(untitled.title) == 80 and untitled.title.endswith("…")


@pytest.mark.usefixtures("tenants")
def test_append_turn_refuses_a_turn_in_the_wrong_order(repo_db: Session) -> None:
    chat = ChatSessionRepository(repo_db).create(tenant_id=TENANT_A, user_id=ALICE)
    user, assistant = _turn(1)
    with pytest.raises(BadRequestError, match="user message"):
        MessageRepository(repo_db).append_turn(
            tenant_id=TENANT_A, session_id=chat.id, user=assistant, assistant=user
        )
    assert chat.message_count == 0


@pytest.mark.usefixtures("tenants")
def test_tenant_b_cannot_read_or_write_tenant_a_messages(repo_db: Session) -> None:
    """Cross-tenant: B can neither list A's messages nor append to A's session."""
    chat = ChatSessionRepository(repo_db).create(tenant_id=TENANT_A, user_id=ALICE)
    messages = MessageRepository(repo_db)
    messages.append_turn(
        tenant_id=TENANT_A, session_id=chat.id, user=_turn(1)[0], assistant=_turn(1)[1]
    )
    assert messages.list(tenant_id=TENANT_B, session_id=chat.id) == []
    with pytest.raises(NotFoundError):
        messages.append_turn(
            tenant_id=TENANT_B, session_id=chat.id, user=_turn(2)[0], assistant=_turn(2)[1]
        )
    repo_db.expire_all()
    assert [m.seq for m in messages.list(tenant_id=TENANT_A, session_id=chat.id)] == [1, 2]
    assert chat.message_count == 2


@pytest.mark.usefixtures("tenants")
def test_deleting_a_session_deletes_its_messages(repo_db: Session) -> None:
    sessions = ChatSessionRepository(repo_db)
    chat = sessions.create(tenant_id=TENANT_A, user_id=ALICE)
    messages = MessageRepository(repo_db)
    messages.append_turn(
        tenant_id=TENANT_A, session_id=chat.id, user=_turn(1)[0], assistant=_turn(1)[1]
    )
    assert sessions.delete(tenant_id=TENANT_A, user_id=ALICE, session_id=chat.id) is True
    assert messages.list(tenant_id=TENANT_A, session_id=chat.id) == []


def test_concurrent_turns_in_one_session_get_distinct_ordered_seqs(
    repo_factory: sessionmaker[Session],
) -> None:
    with transaction(repo_factory) as db:
        make_tenants(db, TENANT_A)
        session_id = ChatSessionRepository(db).create(tenant_id=TENANT_A, user_id=ALICE).id
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def chat(worker: int) -> None:
        try:
            start.wait()
            for n in range(5):
                with transaction(repo_factory) as db:
                    user, assistant = _turn(worker * 100 + n)
                    MessageRepository(db).append_turn(
                        tenant_id=TENANT_A, session_id=session_id, user=user, assistant=assistant
                    )
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=chat, args=(w,)) for w in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert errors == []
    with transaction(repo_factory) as db:
        stored = MessageRepository(db).list(tenant_id=TENANT_A, session_id=session_id)
        chat_session = db.get(ChatSession, session_id)
    assert [m.seq for m in stored] == list(range(1, 21))
    # Each turn is whole: every user message is directly followed by its own answer.
    for question, answer in zip(stored[::2], stored[1::2], strict=True):
        assert answer.content == question.content.replace("question", "answer")
    assert chat_session is not None and chat_session.message_count == 20


def _set_activity(db: Session, session_id: uuid.UUID, when: datetime) -> None:
    db.execute(
        update(ChatSession).where(ChatSession.id == session_id).values(last_activity_at=when)
    )


@pytest.mark.usefixtures("tenants")
def test_start_session_stores_a_new_session_with_its_first_turn(repo_db: Session) -> None:
    session_id = uuid.uuid4()
    user, assistant = _turn(1)

    chat_session, user_row, assistant_row = MessageRepository(repo_db).start_session(
        tenant_id=TENANT_A, user_id="alice", session_id=session_id, user=user, assistant=assistant
    )

    assert (user_row.seq, assistant_row.seq) == (1, 2)
    assert chat_session.message_count == 2 and chat_session.title
    sessions = ChatSessionRepository(repo_db)
    assert sessions.get(tenant_id=TENANT_A, user_id="alice", session_id=session_id) is not None
    assert sessions.get(tenant_id=TENANT_B, user_id="alice", session_id=session_id) is None
    messages = MessageRepository(repo_db).list(tenant_id=TENANT_A, session_id=session_id, limit=10)
    assert [m.role for m in messages] == [MessageRole.USER, MessageRole.ASSISTANT]
    # The next turn continues the numbering.
    MessageRepository(repo_db).append_turn(
        tenant_id=TENANT_A, session_id=session_id, user=user, assistant=assistant
    )
    assert [
        m.seq
        for m in MessageRepository(repo_db).list(
            tenant_id=TENANT_A, session_id=session_id, limit=10
        )
    ] == [1, 2, 3, 4]


@pytest.mark.usefixtures("tenants")
def test_one_turn_at_a_time_per_session(repo_db: Session) -> None:
    sessions = ChatSessionRepository(repo_db)
    chat_session = sessions.create(tenant_id=TENANT_A, user_id=ALICE, title="t")
    claim = {"tenant_id": TENANT_A, "user_id": ALICE, "session_id": chat_session.id}

    assert sessions.claim_turn(**claim, stale_after_s=30) is True
    assert sessions.claim_turn(**claim, stale_after_s=30) is False  # a double submit waits
    assert sessions.claim_turn(**{**claim, "user_id": BOB}, stale_after_s=30) is None
    assert sessions.claim_turn(**{**claim, "tenant_id": TENANT_B}, stale_after_s=30) is None

    sessions.release_turn(tenant_id=TENANT_A, session_id=chat_session.id)
    assert sessions.claim_turn(**claim, stale_after_s=30) is True

    # A claim left by a crashed turn is taken over once it is stale.
    repo_db.execute(
        update(ChatSession)
        .where(ChatSession.id == chat_session.id)
        .values(turn_started_at=datetime.now(UTC) - timedelta(minutes=5))
    )
    assert sessions.claim_turn(**claim, stale_after_s=60) is True


@pytest.mark.usefixtures("tenants")
def test_a_stored_turn_releases_the_claim(repo_db: Session) -> None:
    sessions = ChatSessionRepository(repo_db)
    chat_session = sessions.create(tenant_id=TENANT_A, user_id=ALICE, title="t")
    claim = {"tenant_id": TENANT_A, "user_id": ALICE, "session_id": chat_session.id}
    assert sessions.claim_turn(**claim, stale_after_s=30) is True
    user, assistant = _turn(1)

    MessageRepository(repo_db).append_turn(
        tenant_id=TENANT_A, session_id=chat_session.id, user=user, assistant=assistant
    )

    assert sessions.claim_turn(**claim, stale_after_s=30) is True
