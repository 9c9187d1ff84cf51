"""US7 and US3 through the sessions Lambda handler: a user lists, reads back and deletes their own
conversations (made through the real chat handler), and never anybody else's."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from types import ModuleType

import pytest
from sqlalchemy import func, select, text

from tests.support.lambda_events import HttpResult, invoke, load_handler, rest_event

pytest_plugins = ["tests.integration.chat_fixtures"]

Chat = Callable[..., HttpResult]
Api = Callable[..., HttpResult]

SESSION_RESOURCE = "/api/{tenant_id}/session/{session_id}"


@pytest.fixture(scope="session")
def sessions_handler() -> ModuleType:
    return load_handler("sessions")


@pytest.fixture
def api(sessions_handler: ModuleType, token_for: Callable[..., str]) -> Api:
    """Call the sessions handler as (tenant, user); `session_id` selects one session's route."""

    def call(
        method: str,
        *,
        tenant: str = "acme",
        user: str = "alice",
        session_id: str | None = None,
        query: dict[str, str] | None = None,
        token: str | None = None,
        path_tenant: str | None = None,
    ) -> HttpResult:
        in_path = path_tenant or tenant
        path = f"/api/{in_path}/session"
        resource = "/api/{tenant_id}/session"
        parameters = {"tenant_id": in_path}
        if session_id is not None:
            path += f"/{session_id}"
            resource = SESSION_RESOURCE
            parameters["session_id"] = session_id
        event = rest_event(
            method,
            path,
            token=token or token_for(tenant, user),
            resource=resource,
            path_parameters=parameters,
            query=query,
        )
        return invoke(sessions_handler, event)

    return call


def _turns(chat: Chat, messages: list[str], **who: str) -> str:
    """Send messages as one conversation; returns its session id."""
    session_id: str | None = None
    for message in messages:
        result = chat(message, session_id=session_id, **who)
        assert result.status == 200, result.body
        session_id = str(result.body["session_id"])
    assert session_id is not None
    return session_id


def _thread(tenant: str, user: str, session_id: str) -> str:
    from agenthub.agents.memory import thread_id

    thread: str = thread_id(tenant_id=tenant, user_id=user, session_id=session_id)
    return thread


def _checkpoints(thread: str) -> int:
    from agenthub.composition import get_engine

    with get_engine().connect() as conn:
        count = conn.scalar(
            text("SELECT count(*) FROM checkpoints WHERE thread_id = :t"), {"t": thread}
        )
    return int(count or 0)


def _stored_messages(session_id: str) -> int:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Message

    with get_sessionmaker()() as db:
        count = db.scalar(select(func.count()).where(Message.session_id == uuid.UUID(session_id)))
    return int(count or 0)


def test_a_multi_turn_conversation_is_listed_and_read_back_in_order(
    seeded: None, chat: Chat, api: Api
) -> None:
    # GIVEN a three-turn conversation, then a newer one-turn conversation
    questions = ["Debt for MST 0123456789", "hello", "Track shipment SHP-1001"]
    answers = []
    first = chat(questions[0])
    session_id = first.body["session_id"]
    answers.append(first.body)
    for question in questions[1:]:
        result = chat(question, session_id=session_id)
        assert result.status == 200, result.body
        answers.append(result.body)
    newer = _turns(chat, ["what can you do?"])

    # WHEN the user lists their sessions
    listing = api("GET")

    # THEN both come back, the most recently active first, with title and counters
    assert listing.status == 200, listing.body
    assert [s["id"] for s in listing.body["sessions"]] == [newer, session_id]
    assert listing.body["next_cursor"] is None
    summary = listing.body["sessions"][1]
    assert summary["title"] == "Debt for MST 0123456789"
    assert summary["message_count"] == 6
    assert summary["created_at"] <= summary["last_activity_at"]

    # WHEN the user reads the first one back
    read = api("GET", session_id=session_id)

    # THEN every message comes in conversation order with what the chat answered
    assert read.status == 200, read.body
    body = read.body
    assert (body["id"], body["title"], body["message_count"]) == (session_id, summary["title"], 6)
    assert body["next_after"] is None
    messages = body["messages"]
    assert [m["seq"] for m in messages] == [1, 2, 3, 4, 5, 6]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3
    assert [m["content"] for m in messages[::2]] == questions
    for message, answer in zip(messages[1::2], answers, strict=True):
        assert message["id"] == answer["message_id"]
        assert message["content"] == answer["text"]
        assert (message["agent"], message["format"], message["renderer_hint"]) == (
            answer["agent"],
            answer["format"],
            answer["renderer_hint"],
        )
        assert message["data"] == answer["data"]
        assert message["usage"] == answer["usage"]
        assert message["latency_ms"] == answer["latency_ms"]
        assert isinstance(message["tool_calls"], list)
    debt_answer = messages[1]
    assert debt_answer["tool_calls"][0]["tool"] == "get_customer_debt_by_mst"
    assert debt_answer["tool_calls"][0]["args"] == {"mst": "0123456789"}
    assert debt_answer["usage"]["input_tokens"] > 0
    user_message = messages[0]
    assert user_message["tool_calls"] is None and user_message["usage"] is None
    assert user_message["agent"] is None
    assert [m["created_at"] for m in messages] == sorted(m["created_at"] for m in messages)


def test_sessions_are_paged_with_an_opaque_cursor(seeded: None, chat: Chat, api: Api) -> None:
    created = [_turns(chat, ["hello"]) for _ in range(3)]
    newest_first = list(reversed(created))

    page1 = api("GET", query={"limit": "2"})
    assert page1.status == 200, page1.body
    cursor = page1.body["next_cursor"]
    assert isinstance(cursor, str) and cursor
    page2 = api("GET", query={"limit": "2", "cursor": cursor})
    assert page2.status == 200, page2.body

    ids = [s["id"] for s in page1.body["sessions"] + page2.body["sessions"]]
    assert ids == newest_first
    assert len(page1.body["sessions"]) == 2 and page2.body["next_cursor"] is None


def test_messages_are_paged_by_seq(seeded: None, chat: Chat, api: Api) -> None:
    session_id = _turns(chat, ["hello", "what can you do?"])

    page1 = api("GET", session_id=session_id, query={"limit": "3"})
    page2 = api("GET", session_id=session_id, query={"limit": "3", "after": "3"})

    assert [m["seq"] for m in page1.body["messages"]] == [1, 2, 3]
    assert page1.body["next_after"] == 3
    assert [m["seq"] for m in page2.body["messages"]] == [4]
    assert page2.body["next_after"] is None


def test_delete_removes_the_session_its_messages_and_its_checkpoints(
    seeded: None, chat: Chat, api: Api
) -> None:
    # GIVEN two conversations with memory in the checkpointer
    doomed = _turns(chat, ["Debt for MST 0123456789", "hello"])
    other = _turns(chat, ["hello"])
    doomed_thread, other_thread = _thread("acme", "alice", doomed), _thread("acme", "alice", other)
    assert _checkpoints(doomed_thread) > 0 and _checkpoints(other_thread) > 0
    assert _stored_messages(doomed) == 4

    # WHEN the user deletes one
    deleted = api("DELETE", session_id=doomed)

    # THEN it is gone with its messages and checkpoints; the other is untouched
    assert deleted.status == 204
    assert deleted.body is None
    assert _stored_messages(doomed) == 0
    assert _checkpoints(doomed_thread) == 0
    assert api("GET", session_id=doomed).status == 404
    assert [s["id"] for s in api("GET").body["sessions"]] == [other]
    assert _checkpoints(other_thread) > 0 and _stored_messages(other) == 2
    # Deleting again, or chatting on in the deleted session, finds nothing.
    assert api("DELETE", session_id=doomed).status == 404
    assert chat("hello", session_id=doomed).status == 404


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "3f2b8c1e-8d4a-4e4b-9a57"])
def test_a_malformed_session_id_is_422(seeded: None, api: Api, method: str, bad_id: str) -> None:
    result = api(method, session_id=bad_id)

    assert result.status == 422
    assert result.body["error"]["code"] == "validation_error"
    assert "session_id" in result.body["error"]["message"]
    assert result.body["error"]["request_id"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"limit": "0"}, 422),
        ({"limit": "101"}, 422),
        ({"limit": "ten"}, 422),
        ({"cursor": "not a cursor"}, 400),
        ({"cursor": "eyJhIjoxfQ"}, 400),  # valid base64 JSON, wrong content
    ],
)
def test_bad_list_parameters_are_json_errors(
    seeded: None, api: Api, query: dict[str, str], status: int
) -> None:
    result = api("GET", query=query)

    assert result.status == status
    assert set(result.body["error"]) >= {"code", "message", "request_id"}


def test_without_a_token_every_route_is_401(
    seeded: None, sessions_handler: ModuleType, chat: Chat
) -> None:
    session_id = _turns(chat, ["hello"])
    for method, path in [
        ("GET", "/api/acme/session"),
        ("GET", f"/api/acme/session/{session_id}"),
        ("DELETE", f"/api/acme/session/{session_id}"),
    ]:
        result = invoke(sessions_handler, rest_event(method, path))
        assert result.status == 401, (method, path)
        assert result.body["error"]["code"] == "unauthenticated"
    assert _stored_messages(session_id) == 2


def _outcome(result: HttpResult) -> tuple[int, str, str]:
    error = result.body["error"]
    return result.status, error["code"], error["message"]


OWNERS = [("acme", "alice"), ("acme", "bob"), ("globex", "alice"), ("globex", "bob")]


def test_no_user_reads_or_deletes_another_users_or_tenants_session(
    seeded: None, chat: Chat, api: Api
) -> None:
    """Two tenants x two users (the same user ids in both tenants) against list, get, delete."""
    # GIVEN one conversation per (tenant, user)
    sessions = {owner: _turns(chat, ["hello"], tenant=owner[0], user=owner[1]) for owner in OWNERS}
    never_existed = str(uuid.uuid4())
    leaks: list[str] = []

    for caller, owner in itertools.permutations(OWNERS, 2):
        tenant, user = caller
        target = sessions[owner]
        # Through the caller's own tenant path: exactly like a session that never existed.
        for method in ("GET", "DELETE"):
            result = api(method, tenant=tenant, user=user, session_id=target)
            unknown = api(method, tenant=tenant, user=user, session_id=never_existed)
            if result.status != 404 or _outcome(result) != _outcome(unknown):
                leaks.append(f"{caller} {method} {owner}: {result.status}")
        # Through the owner's tenant path: the token's tenant does not match, whatever the id.
        if owner[0] != tenant:
            for method in ("GET", "DELETE"):
                result = api(
                    method, tenant=tenant, user=user, session_id=target, path_tenant=owner[0]
                )
                unknown = api(
                    method,
                    tenant=tenant,
                    user=user,
                    session_id=never_existed,
                    path_tenant=owner[0],
                )
                if (result.status, unknown.status) != (403, 403):
                    leaks.append(f"{caller} {method} {owner} via its tenant: {result.status}")
            listed = api("GET", tenant=tenant, user=user, path_tenant=owner[0])
            if listed.status != 403:
                leaks.append(f"{caller} listed tenant {owner[0]}: {listed.status}")

    # THEN no cross-tenant or cross-user read or deletion happened
    assert leaks == []
    for owner, session_id in sessions.items():
        listing = api("GET", tenant=owner[0], user=owner[1])
        assert [s["id"] for s in listing.body["sessions"]] == [session_id], owner
        read = api("GET", tenant=owner[0], user=owner[1], session_id=session_id)
        assert read.status == 200 and len(read.body["messages"]) == 2, owner
        assert _checkpoints(_thread(owner[0], owner[1], session_id)) > 0, owner


def test_deleting_one_owners_session_leaves_the_same_user_id_in_the_other_tenant(
    seeded: None, chat: Chat, api: Api
) -> None:
    sessions = {owner: _turns(chat, ["hello"], tenant=owner[0], user=owner[1]) for owner in OWNERS}
    owners = list(sessions)

    for index, (tenant, user) in enumerate(owners):
        assert (
            api("DELETE", tenant=tenant, user=user, session_id=sessions[tenant, user]).status == 204
        )
        assert _stored_messages(sessions[tenant, user]) == 0
        for later in owners[index + 1 :]:
            assert _stored_messages(sessions[later]) == 2, later
            assert _checkpoints(_thread(later[0], later[1], sessions[later])) > 0, later
