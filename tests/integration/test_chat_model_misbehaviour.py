"""A model that misbehaves the way real ones do, through the real langchain-openai client.

Malformed tool arguments, unknown tools and handoffs, empty replies, prose where a card was
asked for, streamed replies: the model gets the error back and may correct it (at most twice
per turn); if it does not, the user gets a clear answer that the request could not be completed
(`routing.status = "error"`). Never an empty answer, never an empty or half turn stored, and the
usage of every model call is counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from agenthub.agents.guards import COULD_NOT_COMPLETE, MAX_CORRECTIONS
from tests.support.fake_openai import FakeOpenAIServer, FakeReply, Misbehaving, offered_tools
from tests.support.lambda_events import HttpResult
from tests.support.scripted_model import (
    DEBT_TOOL,
    ROUTE_USAGE,
    TOOL_CALL_USAGE,
    ScriptedModel,
    use_fake_provider,
)

pytest_plugins = ["tests.integration.chat_fixtures"]

Chat = Callable[..., HttpResult]
DEBT_QUESTION = "Debt for MST 0123456789"
BAD_USAGE = (7, 3)  # what the fake reports for each misbehaving reply
ALWAYS = 99


def _supervisor(body: dict[str, Any]) -> bool:
    return any(name.startswith("transfer_to_") for name in offered_tools(body))


def _debt_agent(body: dict[str, Any]) -> bool:
    return DEBT_TOOL in offered_tools(body)


def _bad(reply: FakeReply) -> FakeReply:
    return replace(reply, prompt_tokens=BAD_USAGE[0], completion_tokens=BAD_USAGE[1])


@pytest.fixture
def model(seeded: None, fake_openai: FakeOpenAIServer) -> FakeOpenAIServer:
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction

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


def _misbehave(
    model: FakeOpenAIServer,
    bad: FakeReply,
    *,
    when: Callable[[dict[str, Any]], bool],
    times: int,
) -> Misbehaving:
    responder = Misbehaving(ScriptedModel(), _bad(bad), times=times, when=when)
    model.responder = responder
    return responder


def _stored() -> list[Any]:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Message

    with get_sessionmaker()() as db:
        return list(db.scalars(select(Message).order_by(Message.created_at, Message.role)))


def _assert_turn_stored(body: dict[str, Any]) -> None:
    """Both messages of the turn, the assistant's with the answer's non-empty text and usage."""
    messages = _stored()
    assert [m.role.value for m in messages] == ["user", "assistant"]
    assistant = messages[1]
    assert assistant.content == body["text"] and assistant.content.strip()
    assert assistant.input_tokens == body["usage"]["input_tokens"]
    assert assistant.output_tokens == body["usage"]["output_tokens"]


def _assert_could_not_complete(result: HttpResult, *, agent: str) -> None:
    assert result.status == 200, result.body
    assert result.body["text"] == COULD_NOT_COMPLETE
    assert result.body["agent"] == agent
    assert result.body["format"] == "text" and result.body["data"] is None
    assert result.body["routing"]["status"] == "error"
    _assert_turn_stored(result.body)


def _usage(*kinds: tuple[int, int]) -> dict[str, int]:
    return {
        "input_tokens": sum(k[0] for k in kinds),
        "output_tokens": sum(k[1] for k in kinds),
    }


def _tool_errors(model: FakeOpenAIServer) -> list[dict[str, Any]]:
    """The tool errors the model was sent, once each (later requests repeat the history)."""
    errors = {
        m["tool_call_id"]: json.loads(m["content"])["error"]
        for r in model.chat_requests
        for m in r.messages
        if m.get("role") == "tool" and '"error"' in str(m.get("content"))
    }
    return list(errors.values())


# --- the debt agent ---------------------------------------------------------------------------


def test_malformed_tool_arguments_go_back_to_the_model_which_corrects_them(
    model: FakeOpenAIServer, chat: Chat
) -> None:
    _misbehave(model, FakeReply.malformed_call(DEBT_TOOL), when=_debt_agent, times=1)

    result = chat(DEBT_QUESTION)

    assert result.status == 200, result.body
    assert result.body["format"] == "card"
    assert result.body["data"]["title"] == "Công ty TNHH Thương mại Minh Phát"
    assert result.body["routing"]["status"] == "ok"
    # The model read why its call failed, as a tool error for that call.
    (error,) = _tool_errors(model)
    assert error["type"] == "bad_arguments" and DEBT_TOOL in error["message"]
    # Every model call is counted, the failed one too.
    assert {k: result.body["usage"][k] for k in ("input_tokens", "output_tokens")} == _usage(
        ROUTE_USAGE, BAD_USAGE, TOOL_CALL_USAGE
    )
    _assert_turn_stored(result.body)


def test_malformed_arguments_that_are_never_corrected_end_in_a_clear_failure_answer(
    model: FakeOpenAIServer, chat: Chat, business_api_server: Any
) -> None:
    _misbehave(model, FakeReply.malformed_call(DEBT_TOOL), when=_debt_agent, times=ALWAYS)

    result = chat(DEBT_QUESTION)

    _assert_could_not_complete(result, agent="debt")
    # The first try and at most two corrections.
    assert len([r for r in model.chat_requests if _debt_agent(r.body or {})]) == 1 + MAX_CORRECTIONS
    assert {k: result.body["usage"][k] for k in ("input_tokens", "output_tokens")} == _usage(
        ROUTE_USAGE, *[BAD_USAGE] * (1 + MAX_CORRECTIONS)
    )
    assert [c for c in business_api_server.calls() if "/erp/" in c["path"]] == []


def test_an_unknown_tool_is_reported_to_the_model_and_a_persistent_one_ends_the_turn(
    model: FakeOpenAIServer, chat: Chat, business_api_server: Any
) -> None:
    _misbehave(
        model, FakeReply.tool_call("delete_all_customers", {}), when=_debt_agent, times=ALWAYS
    )

    result = chat(DEBT_QUESTION)

    _assert_could_not_complete(result, agent="debt")
    errors = _tool_errors(model)
    assert len(errors) == MAX_CORRECTIONS
    assert all(e["type"] == "unknown_tool" and DEBT_TOOL in e["message"] for e in errors)
    assert [c for c in business_api_server.calls() if "/erp/" in c["path"]] == []


def test_an_empty_reply_is_sent_back_once_and_the_second_reply_answers(
    model: FakeOpenAIServer, chat: Chat
) -> None:
    _misbehave(model, FakeReply.empty(), when=_debt_agent, times=1)

    result = chat(DEBT_QUESTION)

    assert result.status == 200, result.body
    assert result.body["format"] == "card"
    assert result.body["routing"]["status"] == "ok"
    _assert_turn_stored(result.body)


def test_a_model_that_keeps_answering_nothing_gets_the_user_a_failure_answer(
    model: FakeOpenAIServer, chat: Chat
) -> None:
    _misbehave(model, FakeReply.empty(), when=_debt_agent, times=ALWAYS)

    _assert_could_not_complete(chat(DEBT_QUESTION), agent="debt")


def _llm_extra(**extra: Any) -> None:
    """Set the acme tenant's LLM config `extra`, as an admin would (a new config version)."""
    from sqlalchemy import update

    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.db.models import TenantLlmConfig
    from agenthub.repositories import TenantRepository

    with transaction(get_sessionmaker()) as db:
        db.execute(
            update(TenantLlmConfig).where(TenantLlmConfig.tenant_id == "acme").values(extra=extra)
        )
        TenantRepository(db).bump_config_version(tenant_id="acme")


@pytest.fixture
def model_writes_answers(model: FakeOpenAIServer) -> FakeOpenAIServer:
    """Cards written by the model from the tool's result (not mapped from it directly)."""
    _llm_extra(direct_tool_answers=False)
    return model


def test_without_direct_answers_the_model_writes_the_card_after_the_tool_call(
    model_writes_answers: FakeOpenAIServer, chat: Chat
) -> None:
    result = chat(DEBT_QUESTION)

    assert result.status == 200, result.body
    assert result.body["format"] == "card"
    assert result.body["text"] == "Công ty TNHH Thương mại Minh Phát owes 269750000 VND."
    assert len(model_writes_answers.chat_requests) == 3


def test_prose_instead_of_the_structured_card_is_still_a_text_answer(
    model_writes_answers: FakeOpenAIServer, chat: Chat
) -> None:
    model = model_writes_answers
    prose = "Minh Phát owes 269,750,000 VND in total."
    after_tool = _debt_agent

    def answered_in_prose(body: dict[str, Any]) -> bool:
        return after_tool(body) and any(m.get("role") == "tool" for m in body["messages"])

    _misbehave(model, FakeReply.text(prose), when=answered_in_prose, times=ALWAYS)

    result = chat(DEBT_QUESTION)

    assert result.status == 200, result.body
    assert (result.body["format"], result.body["text"], result.body["data"]) == (
        "text",
        prose,
        None,
    )
    assert result.body["routing"]["status"] == "ok"
    _assert_turn_stored(result.body)


# --- the supervisor ---------------------------------------------------------------------------


def test_an_unknown_handoff_goes_back_to_the_supervisor_which_corrects_it(
    model: FakeOpenAIServer, chat: Chat
) -> None:
    _misbehave(model, FakeReply.tool_call("transfer_to_billing", {}), when=_supervisor, times=1)

    result = chat(DEBT_QUESTION)

    assert result.status == 200, result.body
    assert result.body["agent"] == "debt" and result.body["format"] == "card"
    (error,) = _tool_errors(model)
    assert error["type"] == "unknown_tool" and "transfer_to_debt" in error["message"]
    _assert_turn_stored(result.body)


@pytest.mark.parametrize(
    "bad",
    [
        FakeReply.tool_call("transfer_to_billing", {}),
        FakeReply.malformed_call("transfer_to_debt", '{"reason": "debt'),
        FakeReply.empty(),
    ],
    ids=["unknown handoff", "malformed handoff", "empty reply"],
)
def test_a_supervisor_that_never_gives_a_usable_reply_gets_the_user_a_failure_answer(
    bad: FakeReply, model: FakeOpenAIServer, chat: Chat
) -> None:
    _misbehave(model, bad, when=_supervisor, times=ALWAYS)

    result = chat(DEBT_QUESTION)

    _assert_could_not_complete(result, agent="supervisor")
    assert len(model.chat_requests) == 1 + MAX_CORRECTIONS
    assert {k: result.body["usage"][k] for k in ("input_tokens", "output_tokens")} == _usage(
        *[BAD_USAGE] * (1 + MAX_CORRECTIONS)
    )


def test_a_failed_turn_answer_is_remembered_as_said_and_the_session_goes_on(
    model: FakeOpenAIServer, chat: Chat
) -> None:
    _misbehave(model, FakeReply.empty(), when=_supervisor, times=1 + MAX_CORRECTIONS)
    first = chat(DEBT_QUESTION)
    assert first.body["routing"]["status"] == "error"
    model.reset()

    second = chat(DEBT_QUESTION, session_id=first.body["session_id"])

    assert second.status == 200, second.body
    assert second.body["format"] == "card"
    assert len(_stored()) == 4
    # The next turn's models see the failure answer, never an empty assistant message.
    assert COULD_NOT_COMPLETE in [m.get("content") for m in model.chat_requests[0].messages]
    for request in model.chat_requests:
        assert all(
            m.get("content") or m.get("tool_calls")
            for m in request.messages
            if m.get("role") == "assistant"
        )


# --- streaming --------------------------------------------------------------------------------


@pytest.fixture
def streaming(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tenant's model streams its replies (as it does when the answer is streamed)."""
    from agenthub import composition

    build = composition.build_model

    def streamed(spec: Any) -> Any:
        return build(spec).model_copy(update={"streaming": True})

    monkeypatch.setattr(composition, "build_model", streamed)
    composition.get_graph_cache.cache_clear()


def test_streamed_replies_with_malformed_arguments_are_corrected_too(
    model: FakeOpenAIServer, streaming: None, chat: Chat
) -> None:
    _misbehave(model, FakeReply.malformed_call(DEBT_TOOL), when=_debt_agent, times=1)

    result = chat(DEBT_QUESTION)

    assert result.status == 200, result.body
    assert all(r.stream for r in model.chat_requests)
    assert result.body["format"] == "card"
    assert [e["type"] for e in _tool_errors(model)] == ["bad_arguments"]
    _assert_turn_stored(result.body)


def test_streamed_empty_replies_end_in_a_failure_answer(
    model: FakeOpenAIServer, streaming: None, chat: Chat
) -> None:
    _misbehave(model, FakeReply.empty(), when=_debt_agent, times=ALWAYS)

    _assert_could_not_complete(chat(DEBT_QUESTION), agent="debt")


# --- input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("message", ["Debt for\x00 MST 0123456789", "Debt\x1b[2J for MST", "\x7f"])
def test_a_message_with_control_characters_is_refused_before_any_model_call(
    message: str, model: FakeOpenAIServer, chat: Chat
) -> None:
    result = chat(message)

    assert result.status == 422, result.body
    assert result.body["error"]["code"] == "validation_error"
    assert model.chat_requests == []
    assert _stored() == []


# --- provider structured output ---------------------------------------------------------------


@pytest.fixture
def provider_structured_output(model: FakeOpenAIServer) -> FakeOpenAIServer:
    """The tenant's model is set to use the provider's native JSON-schema output."""
    _llm_extra(structured_output="provider", direct_tool_answers=False)
    return model


def test_with_provider_structured_output_the_card_comes_from_the_json_schema_reply(
    provider_structured_output: FakeOpenAIServer, chat: Chat
) -> None:
    result = chat(DEBT_QUESTION)

    assert result.status == 200, result.body
    assert result.body["format"] == "card"
    final = provider_structured_output.last_request.body or {}
    assert final["response_format"]["type"] == "json_schema"
    assert final["response_format"]["json_schema"]["schema"]["required"] == ["text", "data"]
    _assert_turn_stored(result.body)


def test_with_provider_structured_output_a_prose_reply_is_a_text_answer(
    provider_structured_output: FakeOpenAIServer, chat: Chat
) -> None:
    prose = "Minh Phát owes 269,750,000 VND in total."

    def after_tool(body: dict[str, Any]) -> bool:
        return _debt_agent(body) and any(m.get("role") == "tool" for m in body["messages"])

    _misbehave(provider_structured_output, FakeReply.text(prose), when=after_tool, times=ALWAYS)

    result = chat(DEBT_QUESTION)

    assert result.status == 200, result.body
    assert (result.body["format"], result.body["text"]) == ("text", prose)
    _assert_turn_stored(result.body)
