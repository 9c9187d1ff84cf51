"""US1 through the real langchain-openai client, against a fake provider that speaks its protocol.

The tenants' LLM config points at `FakeOpenAIServer` with `ScriptedModel` answering like a model
(see tests/support/scripted_model.py); tools reach the demo business API on loopback. What the
fake received is what a real provider would have received.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.support.fake_openai import FakeOpenAIServer, FakeReply, RecordedRequest
from tests.support.lambda_events import HttpResult
from tests.support.scripted_model import (
    ANSWER_TOOL,
    DEBT_TOOL,
    ROUTE_USAGE,
    SHIPMENT_TOOL,
    TOOL_CALL_USAGE,
    ScriptedModel,
    use_fake_provider,
)

pytest_plugins = ["tests.integration.chat_fixtures"]

Chat = Callable[..., HttpResult]
# The demo seed enables Analysis, Debt, OCR and Shipment for both tenants.
HANDOFFS = [
    "transfer_to_analysis",
    "transfer_to_debt",
    "transfer_to_ocr",
    "transfer_to_shipment",
]
# A card agent on a provider answers through the structured output tool.
DEBT_AGENT_TOOLS = [DEBT_TOOL, ANSWER_TOOL]
SHIPMENT_AGENT_TOOLS = [SHIPMENT_TOOL, ANSWER_TOOL]


@pytest.fixture
def model(seeded: None, fake_openai: FakeOpenAIServer) -> FakeOpenAIServer:
    """Both demo tenants on the fake provider, each with its own key."""
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction

    fake_openai.responder = ScriptedModel()
    with transaction(get_sessionmaker()) as db:
        for tenant in ("acme", "globex"):
            use_fake_provider(
                db,
                tenant_id=tenant,
                keyring=get_keyring(),
                base_url=fake_openai.base_url,
                api_key=f"sk-test-{tenant}",
            )
    return fake_openai


@pytest.fixture
def fail_fast(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A short provider timeout and no client retries, so failures surface at once."""
    from agenthub import composition

    monkeypatch.setenv("AGENTHUB_LLM__REQUEST_TIMEOUT_S", "0.5")
    monkeypatch.setenv("AGENTHUB_LLM__MAX_RETRIES", "0")
    composition.reset()
    yield


def _field(data: dict[str, Any], label_part: str) -> Any:
    return next(f["value"] for f in data["fields"] if label_part in f["label"].lower())


def _tool_results(request: RecordedRequest) -> list[dict[str, Any]]:
    return [m for m in request.messages if m.get("role") == "tool"]


def _contents(request: RecordedRequest) -> list[str]:
    return [str(m.get("content") or "") for m in request.messages]


def _count(table: str) -> int:
    from agenthub.composition import get_engine

    with get_engine().connect() as conn:
        return int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


def _message_count() -> int:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Message

    with get_sessionmaker()() as db:
        return int(db.scalar(select(func.count()).select_from(Message)) or 0)


def _checkpoint_rows(thread_prefix: str) -> list[tuple[Any, ...]]:
    """The thread's checkpoints and the stored channel values (blobs) they are made of."""
    from agenthub.composition import get_engine

    checkpoints = text(
        "SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints "
        "WHERE thread_id LIKE :prefix ORDER BY checkpoint_id"
    )
    blobs = text(
        "SELECT thread_id, checkpoint_ns, channel, version FROM checkpoint_blobs "
        "WHERE thread_id LIKE :prefix ORDER BY channel, version"
    )
    with get_engine().connect() as conn:
        return [
            tuple(row)
            for query in (checkpoints, blobs)
            for row in conn.execute(query, {"prefix": f"{thread_prefix}%"})
        ]


# --- one intent -------------------------------------------------------------------------------


def test_a_debt_question_gets_a_debt_card_priced_from_the_models_usage(
    model: FakeOpenAIServer, chat: Chat
) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Message, MessageRole

    result = chat("Debt for MST 0123456789")

    assert result.status == 200, result.body
    body = result.body
    assert body["agent"] == "debt"
    assert body["format"] == "card" and body["renderer_hint"] == "card"
    assert _field(body["data"], "total debt") == 269_750_000
    # The card is the tool's result mapped onto the card format: no model call to restate it.
    assert body["text"] == (
        "Công ty TNHH Thương mại Minh Phát - Total debt: 269750000; "
        "Overdue debt: 205500000; Credit limit: 500000000."
    )
    assert body["routing"]["agent"] == "debt"
    assert body["routing"]["reason"] == "debt: the user asks about debt"
    # supervisor -> agent (tool call), then the card from the tool's result: two model calls.
    calls = model.chat_requests
    assert [r.tool_names for r in calls] == [HANDOFFS, DEBT_AGENT_TOOLS]
    assert body["usage"]["input_tokens"] == ROUTE_USAGE[0] + TOOL_CALL_USAGE[0]
    assert body["usage"]["output_tokens"] == ROUTE_USAGE[1] + TOOL_CALL_USAGE[1]
    # 300 in at $0.001/1k + 30 out at $0.002/1k (the llm_models row's prices).
    assert body["usage"]["cost_usd"] == pytest.approx(0.00036, abs=1e-12)
    with get_sessionmaker()() as db:
        stored = db.scalars(select(Message).where(Message.role == MessageRole.ASSISTANT)).one()
    assert stored.cost_usd == Decimal("0.00036")
    assert stored.llm_model == "gpt-fake"
    assert (stored.input_tokens, stored.output_tokens) == (300, 30)


def test_the_demo_api_gets_the_users_jwt_and_the_provider_the_tenants_decrypted_key(
    model: FakeOpenAIServer, chat: Chat, business_api_server: Any
) -> None:
    result = chat("Debt for MST 0123456789", user="alice")

    assert result.status == 200, result.body
    erp = [c for c in business_api_server.calls() if "/erp/" in c["path"]]
    assert len(erp) == 1
    assert erp[0]["had_bearer"] and erp[0]["authenticated"]
    assert (erp[0]["tenant_id"], erp[0]["sub"]) == ("acme", "alice")
    assert {r.api_key for r in model.chat_requests} == {"sk-test-acme"}
    assert {r.model for r in model.chat_requests} == {"gpt-fake"}


def test_a_malformed_mst_makes_the_agent_ask_for_a_valid_one_without_a_tool_call(
    model: FakeOpenAIServer, chat: Chat, business_api_server: Any
) -> None:
    result = chat("Debt for MST 12345")

    assert result.status == 200, result.body
    assert result.body["agent"] == "debt"
    assert "valid MST" in result.body["text"]
    assert result.body["data"] is None
    assert all(_tool_results(r) == [] for r in model.chat_requests)
    assert [c for c in business_api_server.calls() if "/erp/" in c["path"]] == []


def test_an_unknown_mst_gets_a_clear_not_found_answer(model: FakeOpenAIServer, chat: Chat) -> None:
    result = chat("Debt for MST 0999999999")

    assert result.status == 200, result.body
    assert result.body["agent"] == "debt"
    assert "could not find" in result.body["text"]
    assert result.body["data"] is None
    # The answer was written from the tool's error result, as the model received it.
    (tool_message,) = _tool_results(model.last_request)
    error = json.loads(tool_message["content"])["error"]
    assert error["status"] == 404


# --- permissions ------------------------------------------------------------------------------


def test_disabled_tools_and_agents_are_never_offered_to_the_model(
    model: FakeOpenAIServer, chat: Chat
) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import (
        AgentConfigRepository,
        PermissionRepository,
        TenantRepository,
        ToolConfigRepository,
    )

    # GIVEN track_shipment disabled for acme, the shipment agent disabled for globex
    with transaction(get_sessionmaker()) as db:
        tool = ToolConfigRepository(db).get_by_name(SHIPMENT_TOOL)
        agent = AgentConfigRepository(db).get_by_name("shipment")
        assert tool is not None and agent is not None
        permissions = PermissionRepository(db)
        permissions.set_tool(tenant_id="acme", tool_id=tool.id, enabled=False)
        permissions.set_agent(tenant_id="globex", agent_id=agent.id, enabled=False)
        TenantRepository(db).bump_config_version(tenant_id="acme")
        TenantRepository(db).bump_config_version(tenant_id="globex")

    # WHEN both tenants ask for a shipment (and a debt, the control)
    for tenant in ("acme", "globex"):
        for message in ("track shipment SHP-1001", "Debt for MST 0123456789"):
            assert chat(message, tenant=tenant).status == 200

    # THEN the model never saw the disabled tool or the disabled agent's handoff
    offered = {
        tenant: {name for r in model.chat_requests if r.api_key == key for name in r.tool_names}
        for tenant, key in (("acme", "sk-test-acme"), ("globex", "sk-test-globex"))
    }
    assert SHIPMENT_TOOL not in offered["acme"]
    assert {"transfer_to_shipment", "transfer_to_debt", DEBT_TOOL} <= offered["acme"]
    assert "transfer_to_shipment" not in offered["globex"]
    assert SHIPMENT_TOOL not in offered["globex"]
    assert {"transfer_to_debt", DEBT_TOOL} <= offered["globex"]


# --- several intents --------------------------------------------------------------------------


def test_two_intents_are_rejected_by_default_in_one_supervisor_answer(
    model: FakeOpenAIServer, chat: Chat, business_api_server: Any
) -> None:
    result = chat("Debt for MST 0123456789 and track shipment SHP-1001")

    assert result.status == 200, result.body
    assert result.body["agent"] == "supervisor"
    assert "Debt" in result.body["text"] and "Shipment" in result.body["text"]
    assert sorted(result.body["routing"]["intents"]) == ["debt", "shipment"]
    # Only the supervisor was asked: no domain agent request, no business API call.
    assert [r.tool_names for r in model.chat_requests] == [HANDOFFS]
    assert business_api_server.calls() == []


def test_two_intents_are_both_answered_in_sections_with_policy_parallel(
    model: FakeOpenAIServer, chat: Chat
) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import TenantRepository

    with transaction(get_sessionmaker()) as db:
        tenants = TenantRepository(db)
        tenants.update_settings(
            tenant_id="acme",
            expected_version=tenants.require("acme").version,
            changes={"multi_intent_policy": "parallel"},
        )
        tenants.bump_config_version(tenant_id="acme")

    result = chat("Debt for MST 0123456789 and track shipment SHP-1001")

    assert result.status == 200, result.body
    assert result.body["format"] == "sections"
    sections = {s["agent"]: s for s in result.body["data"]["sections"]}
    assert set(sections) == {"debt", "shipment"}
    assert all(s["status"] == "ok" for s in sections.values())
    assert _field(sections["debt"]["data"], "total debt") == 269_750_000
    assert _field(sections["shipment"]["data"], "status") == "in_transit"
    assert sorted(result.body["routing"]["intents"]) == ["debt", "shipment"]
    # One supervisor call, then each agent's tool call (their cards come from the results).
    assert sorted(map(tuple, (r.tool_names for r in model.chat_requests))) == sorted(
        [tuple(HANDOFFS), tuple(DEBT_AGENT_TOOLS), tuple(SHIPMENT_AGENT_TOOLS)]
    )


# --- memory -----------------------------------------------------------------------------------


def test_the_second_turn_of_a_session_sees_the_first(model: FakeOpenAIServer, chat: Chat) -> None:
    first = chat("Debt for MST 0123456789")
    model.reset()

    second = chat("track shipment SHP-1001", session_id=first.body["session_id"])

    assert second.status == 200, second.body
    assert second.body["agent"] == "shipment"
    supervisor = model.chat_requests[0]
    assert supervisor.tool_names == HANDOFFS
    contents = _contents(supervisor)
    assert "Debt for MST 0123456789" in contents
    assert any(c.startswith(first.body["text"]) for c in contents)
    assert contents[-1] == "track shipment SHP-1001"


# --- provider failures ------------------------------------------------------------------------

FAILURES = {
    # name: (what the provider does, which request fails, the message the user gets)
    "500 in the agent": (
        FakeReply.server_error(),
        lambda body: DEBT_TOOL in [t["function"]["name"] for t in body.get("tools") or []],
        "the LLM provider failed",
    ),
    "401 on the first call": (
        FakeReply.invalid_api_key(),
        lambda body: True,
        "the LLM provider rejected the API key",
    ),
    "timeout in the agent": (
        FakeReply.delayed(3.0),
        lambda body: DEBT_TOOL in [t["function"]["name"] for t in body.get("tools") or []],
        "the LLM provider timed out",
    ),
}


def _failing(reply: FakeReply, when: Callable[[dict[str, Any]], bool]) -> Any:
    scripted = ScriptedModel()
    return lambda body: reply if when(body) else scripted(body)


def _assert_provider_error(result: HttpResult, message: str) -> None:
    assert result.status == 502, result.body
    assert set(result.body) == {"error"}
    assert result.body["error"]["code"] == "llm_provider_error"
    assert result.body["error"]["message"] == message
    assert result.body["error"]["request_id"]


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_provider_failure_in_a_new_session_leaves_no_half_turn(
    failure: str, model: FakeOpenAIServer, fail_fast: None, chat: Chat
) -> None:
    reply, when, message = FAILURES[failure]
    model.responder = _failing(reply, when)

    result = chat("Debt for MST 0123456789")

    _assert_provider_error(result, message)
    assert _message_count() == 0
    assert _count("sessions") == 0
    # Not even orphaned channel values: no session row points at this thread, so retention
    # would never find them (and they hold the user's message).
    assert _checkpoint_rows("tenant_acme__user_alice__") == []
    assert _count("checkpoint_writes") == 0


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_provider_failure_in_a_session_leaves_its_memory_as_it_was(
    failure: str, model: FakeOpenAIServer, fail_fast: None, chat: Chat
) -> None:
    # GIVEN a session with one answered turn
    first = chat("Debt for MST 0123456789")
    assert first.status == 200, first.body
    session_id = first.body["session_id"]
    checkpoints = _checkpoint_rows("tenant_acme__user_alice__")
    assert checkpoints

    # WHEN the provider fails during the second turn
    reply, when, message = FAILURES[failure]
    model.responder = _failing(reply, when)
    failed = chat("Debt for MST 0312345678", session_id=session_id)

    # THEN the error is clean and nothing of the failed turn was kept
    _assert_provider_error(failed, message)
    assert _message_count() == 2
    assert _checkpoint_rows("tenant_acme__user_alice__") == checkpoints
    # ...and the next turn's model sees the first turn, not the failed one.
    model.responder = ScriptedModel()
    model.reset()
    third = chat("track shipment SHP-1001", session_id=session_id)
    assert third.status == 200, third.body
    contents = _contents(model.chat_requests[0])
    assert "Debt for MST 0123456789" in contents
    assert "Debt for MST 0312345678" not in contents
    assert _message_count() == 4
