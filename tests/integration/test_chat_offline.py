"""US1 with the offline model, through the chat Lambda handler and the demo business API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from tests.support.lambda_events import HttpResult

pytest_plugins = ["tests.integration.chat_fixtures"]

Chat = Callable[..., HttpResult]


def _field(data: dict[str, Any], label_part: str) -> Any:
    return next(f["value"] for f in data["fields"] if label_part in f["label"].lower())


def test_debt_question_gets_a_debt_card_from_the_erp(seeded: None, chat: Chat) -> None:
    result = chat("Debt for MST 0123456789")

    assert result.status == 200, result.body
    body = result.body
    assert body["agent"] == "debt"
    assert body["routing"]["agent"] == "debt"
    assert body["routing"]["reason"]
    assert body["format"] == "card"
    assert body["renderer_hint"] == "card"
    assert _field(body["data"], "total debt") == 269_750_000
    assert "offline model" in body["text"]
    assert body["usage"]["input_tokens"] > 0
    assert body["usage"]["output_tokens"] > 0
    assert body["latency_ms"] >= 0


def test_the_demo_api_received_the_users_jwt(
    seeded: None, chat: Chat, business_api_server: Any
) -> None:
    business_api_server.clear_calls()

    chat("Debt for MST 0123456789", user="alice")

    calls = [c for c in business_api_server.calls() if "/erp/" in c["path"]]
    assert len(calls) == 1
    assert calls[0]["had_bearer"] and calls[0]["authenticated"]
    assert (calls[0]["tenant_id"], calls[0]["sub"]) == ("acme", "alice")


def test_a_malformed_mst_makes_the_agent_ask_without_calling_the_tool(
    seeded: None, chat: Chat, business_api_server: Any
) -> None:
    business_api_server.clear_calls()

    result = chat("Debt for MST 12345")

    assert result.status == 200, result.body
    assert result.body["agent"] == "debt"
    assert "valid" in result.body["text"].lower()
    assert "mst" in result.body["text"].lower()
    assert [c for c in business_api_server.calls() if "/erp/" in c["path"]] == []


def test_an_unknown_mst_gets_a_clear_not_found_answer(seeded: None, chat: Chat) -> None:
    result = chat("Debt for MST 0999999999")

    assert result.status == 200, result.body
    assert result.body["agent"] == "debt"
    assert "could not find" in result.body["text"].lower()
    assert result.body["data"] is None


def test_the_turn_is_stored_with_agent_tool_calls_tokens_and_latency(
    seeded: None, chat: Chat
) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Message

    result = chat("Debt for MST 0123456789")

    with get_sessionmaker()() as db:
        rows = db.scalars(select(Message).order_by(Message.seq)).all()
    assert [r.role.value for r in rows] == ["user", "assistant"]
    user, assistant = rows
    assert str(assistant.id) == result.body["message_id"]
    assert str(assistant.session_id) == result.body["session_id"]
    assert user.content == "Debt for MST 0123456789"
    assert assistant.agent == "debt" and assistant.format == "card"
    assert assistant.tool_calls[0]["tool"] == "get_customer_debt_by_mst"
    assert assistant.tool_calls[0]["args"] == {"mst": "0123456789"}
    assert assistant.tool_calls[0]["outcome"] == "ok"
    assert assistant.input_tokens > 0 and assistant.latency_ms is not None


def test_greeting_and_help_are_answered_by_the_supervisor(seeded: None, chat: Chat) -> None:
    hello = chat("hello")
    help_ = chat("what can you do?")

    assert hello.status == 200 and hello.body["agent"] == "supervisor"
    assert help_.body["agent"] == "supervisor"
    assert "debt" in help_.body["text"].lower() and "shipment" in help_.body["text"].lower()


def test_two_intents_are_rejected_by_default_naming_both(seeded: None, chat: Chat) -> None:
    result = chat("Debt for MST 0123456789 and track shipment SHP-1001")

    assert result.status == 200, result.body
    assert result.body["agent"] == "supervisor"
    assert "Debt" in result.body["text"] and "Shipment" in result.body["text"]
    assert sorted(result.body["routing"]["intents"]) == ["debt", "shipment"]


def test_two_intents_are_both_answered_with_policy_parallel(seeded: None, chat: Chat) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import TenantRepository

    with transaction(get_sessionmaker()) as db:
        tenants = TenantRepository(db)
        tenant = tenants.require("acme")
        tenants.update_settings(
            tenant_id="acme",
            expected_version=tenant.version,
            changes={"multi_intent_policy": "parallel"},
        )
        tenants.bump_config_version(tenant_id="acme")

    result = chat("Debt for MST 0123456789 and track shipment SHP-1001")

    assert result.status == 200, result.body
    assert result.body["format"] == "sections"
    sections = {s["agent"]: s for s in result.body["data"]["sections"]}
    assert set(sections) == {"debt", "shipment"}
    assert all(s["status"] == "ok" for s in sections.values())
    assert sections["debt"]["format"] == "card"


def test_a_second_turn_continues_the_session(seeded: None, chat: Chat) -> None:
    first = chat("Debt for MST 0123456789")
    second = chat("track shipment SHP-1001", session_id=first.body["session_id"])

    assert second.status == 200, second.body
    assert second.body["session_id"] == first.body["session_id"]
    assert second.body["agent"] == "shipment"


def test_another_users_session_is_not_found(seeded: None, chat: Chat) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Message

    first = chat("Debt for MST 0123456789", user="alice")

    stolen = chat("hello", user="bob", session_id=first.body["session_id"])

    assert stolen.status == 404
    assert stolen.body["error"]["code"] == "not_found"
    with get_sessionmaker()() as db:
        assert db.scalar(select(func.count()).select_from(Message)) == 2
