"""POST /api/{tenant_id}/chat/stream over real HTTP, through the local gateway (template.yaml).

The offline model streams word by word; the fake provider streams through the real
langchain-openai client. Real PostgreSQL, Redis and the demo business API behind the tools.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.integration.stream_support import (
    Stream,
    post_stream,
    read_events,
    serve_repo_gateway,
    wait_until,
)
from tests.support.fake_openai import FakeOpenAIServer, FakeReply, PacedReply
from tests.support.scripted_model import DEBT_TOOL, ScriptedModel, use_fake_provider

pytest_plugins = ["tests.integration.chat_fixtures"]

DEBT = "Debt for MST 0123456789"
TWO_INTENTS = "Debt for MST 0123456789 and track shipment SHP-1001"
# What differs between two turns with the same message.
PER_TURN = {"session_id", "message_id", "latency_ms"}


@pytest.fixture
def gateway(seeded: None) -> Iterator[str]:
    with serve_repo_gateway() as url:
        yield url


@pytest.fixture
def alice(token_for: Callable[..., str]) -> str:
    return token_for("acme", "alice")


@pytest.fixture
def provider(
    seeded: None, fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> FakeOpenAIServer:
    """acme on the fake provider, with no client retries (a failure surfaces at once)."""
    from agenthub import composition
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction

    monkeypatch.setenv("AGENTHUB_LLM__MAX_RETRIES", "0")
    composition.reset()
    fake_openai.responder = ScriptedModel()
    with transaction(get_sessionmaker()) as db:
        use_fake_provider(
            db,
            tenant_id="acme",
            keyring=get_keyring(),
            base_url=fake_openai.base_url,
            api_key="sk-test-acme",
        )
    return fake_openai


def _set_parallel_policy(tenant_id: str = "acme") -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import TenantRepository

    with transaction(get_sessionmaker()) as db:
        tenants = TenantRepository(db)
        tenants.update_settings(
            tenant_id=tenant_id,
            expected_version=tenants.require(tenant_id).version,
            changes={"multi_intent_policy": "parallel"},
        )
        tenants.bump_config_version(tenant_id=tenant_id)


def _count(sql: str, **params: Any) -> int:
    from agenthub.composition import get_engine

    with get_engine().connect() as conn:
        return int(conn.scalar(text(sql), params) or 0)


def _stored_messages() -> int:
    return _count("SELECT count(*) FROM messages")


def _checkpoints(user: str = "alice") -> int:
    return _count(
        "SELECT count(*) FROM checkpoints WHERE thread_id LIKE :prefix",
        prefix=f"tenant_acme__user_{user}__%",
    )


def _turn_claimed(session_id: str) -> bool:
    return bool(
        _count(
            "SELECT count(*) FROM sessions WHERE id = :id AND turn_started_at IS NOT NULL",
            id=session_id,
        )
    )


def _chat(url: str, token: str, message: str, session_id: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"message": message}
    if session_id:
        body["session_id"] = session_id
    return httpx.post(
        f"{url}/api/acme/chat",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _assert_well_formed(stream: Stream) -> None:
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert [e.id for e in stream.events] == list(range(1, len(stream.events) + 1))
    assert stream.types[-1] == "done"
    assert stream.types.count("done") == 1


# --- the events of a turn ---------------------------------------------------------------------


def test_a_supervisor_answer_streams_routing_then_tokens_then_the_answer_then_done(
    gateway: str, alice: str
) -> None:
    stream = post_stream(gateway, "acme", alice, {"message": "hello"})

    _assert_well_formed(stream)
    assert stream.index("routing") < stream.index("token") < stream.index("answer")
    assert stream.types[-2:] == ["answer", "done"]
    assert stream.first("routing").data["agent"] == "supervisor"
    tokens = stream.of("token")
    assert len(tokens) > 5, "the offline model streams word by word"
    assert {t.data["agent"] for t in tokens} == {"supervisor"}
    answer = stream.first("answer").data
    assert stream.text() == answer["text"]
    assert stream.first("done").data == {"outcome": "answered"}


def test_the_answer_event_is_the_json_chat_returns_for_the_same_turn(
    gateway: str, alice: str
) -> None:
    stream = post_stream(gateway, "acme", alice, {"message": DEBT})
    plain = _chat(gateway, alice, DEBT)

    _assert_well_formed(stream)
    assert plain.status_code == 200, plain.text
    streamed = stream.first("answer").data
    assert set(streamed) == set(plain.json())
    assert {k: v for k, v in streamed.items() if k not in PER_TURN} == {
        k: v for k, v in plain.json().items() if k not in PER_TURN
    }
    assert (streamed["agent"], streamed["format"]) == ("debt", "card")
    # The stored turn is the streamed one.
    session = httpx.get(
        f"{gateway}/api/acme/session/{streamed['session_id']}",
        headers={"Authorization": f"Bearer {alice}"},
        timeout=30,
    ).json()
    assert [m["content"] for m in session["messages"]] == [DEBT, streamed["text"]]


def test_a_card_answer_streams_its_text_and_tool_events_but_never_its_json(
    gateway: str, alice: str
) -> None:
    stream = post_stream(gateway, "acme", alice, {"message": DEBT})

    _assert_well_formed(stream)
    order = stream.types
    assert order.index("routing") < order.index("tool_start") < order.index("tool_end")
    assert order.index("tool_end") < order.index("token") < order.index("answer")
    assert stream.first("routing").data["agent"] == "debt"
    assert stream.first("tool_start").data == {"tool": "get_customer_debt_by_mst", "agent": "debt"}
    ended = stream.first("tool_end").data
    assert (ended["tool"], ended["agent"], ended["status"]) == (
        "get_customer_debt_by_mst",
        "debt",
        "ok",
    )
    assert ended["latency_ms"] >= 0
    answer = stream.first("answer").data
    assert stream.text("debt") == answer["text"]
    assert "{" not in stream.text(), "the card's JSON is not streamed as text"
    # Tool events name the tool, never what was sent to it.
    assert alice not in stream.raw
    assert "0123456789" not in json.dumps([e.data for e in stream.of("tool_start")])


def test_a_failed_tool_call_ends_with_status_error(gateway: str, alice: str) -> None:
    stream = post_stream(gateway, "acme", alice, {"message": "Debt for MST 0999999999"})

    _assert_well_formed(stream)
    ended = stream.first("tool_end").data
    assert (ended["tool"], ended["agent"], ended["status"]) == (
        "get_customer_debt_by_mst",
        "debt",
        "error",
    )
    assert "could not find" in stream.text("debt").lower()


def test_two_intents_under_the_parallel_policy_stream_both_agents(gateway: str, alice: str) -> None:
    _set_parallel_policy()

    stream = post_stream(gateway, "acme", alice, {"message": TWO_INTENTS})

    _assert_well_formed(stream)
    routing = stream.of("routing")
    assert len(routing) == 1
    assert sorted(i["agent"] for i in routing[0].data["intents"]) == ["debt", "shipment"]
    assert all(i["reason"] for i in routing[0].data["intents"])
    assert {e.data["agent"] for e in stream.of("tool_start")} == {"debt", "shipment"}
    assert {e.data["agent"] for e in stream.of("tool_end")} == {"debt", "shipment"}
    assert {e.data["agent"] for e in stream.of("token")} == {"debt", "shipment"}
    assert stream.index("routing") < stream.index("token")
    answer = stream.first("answer").data
    assert answer["format"] == "sections"
    sections = {s["agent"]: s for s in answer["data"]["sections"]}
    assert stream.text("debt") == sections["debt"]["text"]
    assert stream.text("shipment") == sections["shipment"]["text"]


def test_several_intents_rejected_by_policy_stream_the_routing_with_each_intent(
    gateway: str, alice: str
) -> None:
    stream = post_stream(gateway, "acme", alice, {"message": TWO_INTENTS})

    _assert_well_formed(stream)
    routing = stream.first("routing").data
    assert routing["agent"] == "supervisor"
    assert sorted(i["agent"] for i in routing["intents"]) == ["debt", "shipment"]
    assert stream.first("answer").data["routing"]["intents"] == ["debt", "shipment"]


# --- through the real langchain-openai client ----------------------------------------------------


def test_provider_tokens_arrive_as_the_provider_sends_them_not_buffered(
    provider: FakeOpenAIServer, gateway: str, alice: str
) -> None:
    words = [f"w{i}" for i in range(10)]
    provider.enqueue(PacedReply.text(" ".join(words)).paced(0.05, 0.1))

    stream = post_stream(gateway, "acme", alice, {"message": "hello there"})

    _assert_well_formed(stream)
    tokens = stream.of("token")
    assert stream.text() == " ".join(words)
    assert len(tokens) == len(words)
    # Ten tokens 100 ms apart reach the client spread out, not all at once at the end.
    assert tokens[-1].at - tokens[0].at > 0.6
    assert stream.first("answer").at - tokens[0].at > 0.6


def test_a_quiet_turn_keeps_the_connection_alive_with_comments(
    provider: FakeOpenAIServer, gateway: str, alice: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agenthub.api import chat_stream

    monkeypatch.setattr(chat_stream, "KEEPALIVE_S", 0.2)
    provider.enqueue(FakeReply.text("late but here").after(1.0))

    stream = post_stream(gateway, "acme", alice, {"message": "hello there"})

    _assert_well_formed(stream)
    assert stream.raw.index(": keep-alive") < stream.raw.index("event: token")
    assert stream.text() == "late but here"


def test_a_provider_failure_mid_stream_is_an_error_event_and_nothing_is_stored(
    provider: FakeOpenAIServer, gateway: str, alice: str
) -> None:
    provider.enqueue(PacedReply.text("one two three four five six").failing_after(3))

    stream = post_stream(gateway, "acme", alice, {"message": "hello there"})

    _assert_well_formed(stream)
    assert stream.types[-2:] == ["error", "done"]
    assert stream.of("answer") == []
    assert stream.text() == "one two three"
    error = stream.first("error").data
    assert error["status"] == 502
    assert error["error"]["code"] == "llm_provider_error"
    assert error["error"]["message"]
    assert error["error"]["request_id"]
    assert stream.first("done").data == {"outcome": "failed"}
    assert _stored_messages() == 0
    assert _count("SELECT count(*) FROM sessions") == 0
    assert _checkpoints() == 0


def test_a_provider_failure_in_a_session_keeps_its_earlier_turns_and_frees_it(
    provider: FakeOpenAIServer, gateway: str, alice: str
) -> None:
    first = _chat(gateway, alice, DEBT).json()
    checkpoints = _checkpoints()
    provider.enqueue(FakeReply.server_error())

    stream = post_stream(
        gateway, "acme", alice, {"message": "hello", "session_id": first["session_id"]}
    )

    assert stream.first("error").data["status"] == 502
    assert _stored_messages() == 2
    assert _checkpoints() == checkpoints
    assert not _turn_claimed(first["session_id"])


def test_a_client_that_disconnects_stops_the_turn_and_leaves_no_half_turn(
    provider: FakeOpenAIServer, gateway: str, alice: str
) -> None:
    # GIVEN a session with one turn, and a slow streamed answer to the next message
    first = _chat(gateway, alice, DEBT).json()
    session_id = first["session_id"]
    checkpoints = _checkpoints()
    requests_before = len(provider.chat_requests)
    provider.enqueue(PacedReply.text(" ".join(["slow"] * 60)).paced(0.05, 0.1))

    # WHEN the client reads the first token and leaves
    stream = Stream(status=0, headers=httpx.Headers())
    with (
        httpx.Client(timeout=30) as client,
        client.stream(
            "POST",
            f"{gateway}/api/acme/chat/stream",
            json={"message": "hello", "session_id": session_id},
            headers={"Authorization": f"Bearer {alice}"},
        ) as response,
    ):
        read_events(response.iter_lines(), stream, stop_after="token")
    left = time.perf_counter()
    assert stream.types[-1] == "token"

    # THEN the turn stops and is discarded: the session is free again, nothing was added
    wait_until(lambda: not _turn_claimed(session_id), what="the turn to be discarded")
    assert time.perf_counter() - left < 3.0, "stopped, not run to its end (6 s of tokens)"
    assert _stored_messages() == 2
    assert _checkpoints() == checkpoints
    assert len(provider.chat_requests) == requests_before + 1  # no model call after it
    again = _chat(gateway, alice, "hello", session_id=session_id)
    assert again.status_code == 200, again.text


def test_a_client_that_leaves_after_the_routing_gets_no_tool_called_for_it(
    provider: FakeOpenAIServer, gateway: str, alice: str, business_api_server: Any
) -> None:
    # GIVEN a handoff at once, then an agent model call that takes a while to ask for the tool
    business_api_server.clear_calls()
    provider.enqueue(
        FakeReply.tool_call("transfer_to_debt", {"reason": "a debt question"}),
        FakeReply.tool_call(DEBT_TOOL, {"mst": "0123456789"}).after(1.0),
    )

    # WHEN the client leaves once it knows the routing, the agent's model call under way
    stream = Stream(status=0, headers=httpx.Headers())
    with (
        httpx.Client(timeout=30) as client,
        client.stream(
            "POST",
            f"{gateway}/api/acme/chat/stream",
            json={"message": DEBT},
            headers={"Authorization": f"Bearer {alice}"},
        ) as response,
    ):
        # The iterator is kept: an abandoned one closes the connection when it is collected.
        lines = response.iter_lines()
        read_events(lines, stream, stop_after="routing")
        # Leaving before that call starts would stop the turn sooner (a busy machine lets the
        # disconnect arrive first): the tool would go uncalled without this test's point.
        wait_until(lambda: provider.pending == 0, what="the agent's model call")
    assert stream.first("routing").data["agent"] == "debt"

    # THEN the tool the model then asks for is never called, and nothing is kept
    time.sleep(1.5)  # its reply (1 s late) has come back by now
    assert [c for c in business_api_server.calls() if "/erp/" in c["path"]] == []
    assert len(provider.chat_requests) == 2
    assert _stored_messages() == 0
    assert _count("SELECT count(*) FROM sessions") == 0
    assert _checkpoints() == 0


# --- errors before the stream starts are plain JSON ------------------------------------------


def _assert_plain_error(stream: Stream, status: int, code: str) -> None:
    assert stream.status == status, stream.body
    assert stream.headers["content-type"].startswith("application/json")
    assert stream.body["error"]["code"] == code
    assert stream.body["error"]["request_id"]


def test_without_a_token_the_stream_is_refused_with_401(gateway: str) -> None:
    stream = post_stream(gateway, "acme", None, {"message": "hi"})

    _assert_plain_error(stream, 401, "unauthenticated")
    # The request id is API Gateway's (passed on as the Lambda Web Adapter does).
    assert stream.body["error"]["request_id"] == stream.headers["x-amzn-requestid"]


def test_a_token_of_another_tenant_is_refused_with_403(
    gateway: str, token_for: Callable[..., str]
) -> None:
    stream = post_stream(gateway, "acme", token_for("globex", "gina"), {"message": "hi"})

    _assert_plain_error(stream, 403, "forbidden")
    assert _stored_messages() == 0


@pytest.mark.parametrize(
    "body",
    [{"message": "   "}, {"message": ""}, {"text": "hi"}, {"message": "hi", "extra": 1}, "{"],
    ids=["blank", "empty", "no-message", "unknown-field", "not-json"],
)
def test_invalid_input_is_refused_with_422(
    gateway: str, alice: str, body: dict[str, Any] | str
) -> None:
    _assert_plain_error(post_stream(gateway, "acme", alice, body), 422, "validation_error")


def test_a_body_over_the_limit_is_refused_with_413(gateway: str, alice: str) -> None:
    stream = post_stream(gateway, "acme", alice, {"message": "x" * 70_000})

    _assert_plain_error(stream, 413, "payload_too_large")


def test_another_users_session_is_not_found(
    gateway: str, alice: str, token_for: Callable[..., str]
) -> None:
    first = _chat(gateway, alice, DEBT).json()

    stream = post_stream(
        gateway,
        "acme",
        token_for("acme", "bob"),
        {"message": "hello", "session_id": first["session_id"]},
    )

    _assert_plain_error(stream, 404, "not_found")
    assert _stored_messages() == 2


def test_a_session_of_another_tenant_is_not_found(
    gateway: str, alice: str, token_for: Callable[..., str]
) -> None:
    first = _chat(gateway, alice, DEBT).json()

    stream = post_stream(
        gateway,
        "globex",
        token_for("globex", "alice"),
        {"message": "hello", "session_id": first["session_id"]},
    )

    _assert_plain_error(stream, 404, "not_found")
    assert _stored_messages() == 2


def test_a_message_while_the_session_is_busy_is_refused_with_409(gateway: str, alice: str) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import ChatSessionRepository

    first = _chat(gateway, alice, DEBT).json()
    with transaction(get_sessionmaker()) as db:
        assert ChatSessionRepository(db).claim_turn(
            tenant_id="acme",
            user_id="alice",
            session_id=uuid.UUID(first["session_id"]),
            stale_after_s=600,
        )

    stream = post_stream(
        gateway, "acme", alice, {"message": "hello", "session_id": first["session_id"]}
    )

    _assert_plain_error(stream, 409, "conflict")
    assert _stored_messages() == 2


def test_over_the_tenants_rate_limit_the_stream_is_refused_with_429(
    gateway: str, alice: str
) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import TenantRepository

    with transaction(get_sessionmaker()) as db:
        tenants = TenantRepository(db)
        tenants.update_settings(
            tenant_id="acme",
            expected_version=tenants.require("acme").version,
            changes={"rate_limit_per_minute": 1},
        )
        tenants.bump_config_version(tenant_id="acme")

    statuses = [post_stream(gateway, "acme", alice, {"message": "hello"}) for _ in range(3)]

    assert statuses[0].status == 200
    _assert_plain_error(statuses[-1], 429, "rate_limited")
    assert statuses[-1].headers["retry-after"]
