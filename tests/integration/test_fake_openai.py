"""The fake OpenAI provider, driven by the real `langchain_openai.ChatOpenAI` client: what the
client sends is recorded, and what the fake answers parses exactly like OpenAI's own replies."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import openai
import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from tests.support import servers
from tests.support.fake_openai import FakeOpenAIServer, FakeReply, ToolCall

fake_openai = servers.fake_openai


@tool
def get_customer_debt(mst: str) -> str:
    """Look up a customer's debt by Vietnamese tax code (MST)."""
    return mst


@tool
def track_shipment(tracking_id: str) -> str:
    """Track a shipment by its tracking id."""
    return tracking_id


def chat_model(fake: FakeOpenAIServer, **overrides: Any) -> ChatOpenAI:
    settings: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "base_url": fake.base_url,
        "api_key": "sk-test",
        "max_retries": 0,
        "timeout": 5,
    }
    return ChatOpenAI(**(settings | overrides))


def test_a_plain_answer_carries_text_usage_and_the_request_is_recorded(
    fake_openai: FakeOpenAIServer,
) -> None:
    fake_openai.enqueue(FakeReply.text("Xin chào!", prompt_tokens=12, completion_tokens=5))

    answer = chat_model(fake_openai).invoke([HumanMessage("Chào bạn")])

    assert answer.content == "Xin chào!"
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["input_tokens"] == 12
    assert answer.usage_metadata["output_tokens"] == 5
    assert answer.usage_metadata["total_tokens"] == 17
    assert answer.response_metadata["finish_reason"] == "stop"
    assert answer.response_metadata["model_name"] == "gpt-4o-mini"
    request = fake_openai.last_request
    assert request.path == "/v1/chat/completions"
    assert request.api_key == "sk-test"
    assert request.model == "gpt-4o-mini"
    assert request.messages == [{"role": "user", "content": "Chào bạn"}]
    assert fake_openai.pending == 0


def test_a_scripted_tool_call_is_parsed_into_tool_calls(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(FakeReply.tool_call("get_customer_debt", {"mst": "0123456789"}))
    model = chat_model(fake_openai).bind_tools([get_customer_debt, track_shipment])

    answer = model.invoke("Công nợ của MST 0123456789?")

    assert answer.tool_calls == [
        {
            "name": "get_customer_debt",
            "args": {"mst": "0123456789"},
            "id": "call_fake1_0",
            "type": "tool_call",
        }
    ]
    assert answer.response_metadata["finish_reason"] == "tool_calls"
    assert fake_openai.last_request.tool_names == ["get_customer_debt", "track_shipment"]


def test_several_tool_calls_in_one_reply(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(
        FakeReply.tool_calls(
            ToolCall("get_customer_debt", {"mst": "0123456789"}, id="call_a"),
            ToolCall("track_shipment", {"tracking_id": "SHP-1001"}, id="call_b"),
        )
    )
    model = chat_model(fake_openai).bind_tools([get_customer_debt, track_shipment])

    answer = model.invoke("Công nợ và đơn hàng SHP-1001?")

    assert [(call["id"], call["name"], call["args"]) for call in answer.tool_calls] == [
        ("call_a", "get_customer_debt", {"mst": "0123456789"}),
        ("call_b", "track_shipment", {"tracking_id": "SHP-1001"}),
    ]


def test_a_streamed_answer_arrives_in_pieces_with_usage(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(
        FakeReply.text("Khách hàng còn nợ 269.750.000 VND.", prompt_tokens=20, completion_tokens=9)
    )

    chunks = list(chat_model(fake_openai, stream_usage=True).stream("Công nợ?"))

    text_chunks = [chunk for chunk in chunks if chunk.content]
    assert len(text_chunks) > 1
    merged: AIMessageChunk = sum(chunks[1:], chunks[0])
    assert merged.content == "Khách hàng còn nợ 269.750.000 VND."
    assert merged.usage_metadata is not None
    assert merged.usage_metadata["input_tokens"] == 20
    assert merged.usage_metadata["output_tokens"] == 9
    request = fake_openai.last_request
    assert request.stream
    assert request.body is not None
    assert request.body["stream_options"] == {"include_usage": True}


def test_a_streamed_tool_call_arrives_as_tool_call_chunks(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(FakeReply.tool_call("track_shipment", {"tracking_id": "SHP-1001"}))
    model = chat_model(fake_openai).bind_tools([get_customer_debt, track_shipment])

    chunks = list(model.stream("Đơn SHP-1001 đang ở đâu?"))

    assert sum(1 for chunk in chunks if chunk.tool_call_chunks) > 2  # the arguments in deltas
    merged: AIMessageChunk = sum(chunks[1:], chunks[0])
    assert merged.tool_calls == [
        {
            "name": "track_shipment",
            "args": {"tracking_id": "SHP-1001"},
            "id": "call_fake1_0",
            "type": "tool_call",
        }
    ]
    assert merged.response_metadata["finish_reason"] == "tool_calls"


def test_a_responder_can_route_by_the_tools_offered(fake_openai: FakeOpenAIServer) -> None:
    def responder(request: dict[str, Any]) -> FakeReply:
        offered = [t["function"]["name"] for t in request.get("tools", [])]
        if "track_shipment" in offered:
            return FakeReply.tool_call("track_shipment", {"tracking_id": "SHP-1001"})
        return FakeReply.text("Tôi không có công cụ phù hợp.")

    fake_openai.responder = responder

    with_tools = chat_model(fake_openai).bind_tools([track_shipment]).invoke("SHP-1001?")
    without_tools = chat_model(fake_openai).invoke("SHP-1001?")

    assert [call["name"] for call in with_tools.tool_calls] == ["track_shipment"]
    assert without_tools.content == "Tôi không có công cụ phù hợp."


def test_queued_replies_are_used_before_the_responder(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.responder = lambda request: FakeReply.text("from the responder")
    fake_openai.enqueue(FakeReply.text("from the queue"))
    model = chat_model(fake_openai)

    assert [model.invoke("a").content, model.invoke("b").content] == [
        "from the queue",
        "from the responder",
    ]


@pytest.mark.parametrize(
    ("reply", "exception", "status"),
    [
        (FakeReply.server_error(), openai.InternalServerError, 500),
        (FakeReply.invalid_api_key(), openai.AuthenticationError, 401),
        (FakeReply.rate_limited(), openai.RateLimitError, 429),
    ],
    ids=["500", "401", "429"],
)
def test_a_scripted_error_surfaces_as_the_openai_exception(
    fake_openai: FakeOpenAIServer,
    reply: FakeReply,
    exception: type[openai.APIStatusError],
    status: int,
) -> None:
    fake_openai.enqueue(reply)

    with pytest.raises(exception) as raised:
        chat_model(fake_openai).invoke("hi")

    assert raised.value.status_code == status
    assert raised.value.body == dict(reply.error_body or {})


def test_a_scripted_error_also_ends_a_stream(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(FakeReply.server_error())

    with pytest.raises(openai.InternalServerError):
        list(chat_model(fake_openai).stream("hi"))


def test_a_server_with_a_key_refuses_any_other_key() -> None:
    with FakeOpenAIServer(api_key="sk-right") as fake:
        fake.enqueue(FakeReply.text("ok"))

        with pytest.raises(openai.AuthenticationError) as raised:
            chat_model(fake, api_key="sk-wrong").invoke("hi")
        answer = chat_model(fake, api_key="sk-right").invoke("hi")

    assert raised.value.code == "invalid_api_key"
    assert answer.content == "ok"
    assert [request.api_key for request in fake.chat_requests] == ["sk-wrong", "sk-right"]


def test_a_slow_reply_trips_the_client_timeout_and_does_not_delay_shutdown() -> None:
    fake = FakeOpenAIServer().start()
    fake.enqueue(FakeReply.delayed(30))
    try:
        with pytest.raises(openai.APITimeoutError):
            chat_model(fake, timeout=0.3).invoke("hi")
    finally:
        started = time.monotonic()
        fake.stop()

    assert time.monotonic() - started < 2  # the handler stopped waiting when the server did


def test_an_unscripted_request_fails_loudly(fake_openai: FakeOpenAIServer) -> None:
    with pytest.raises(openai.InternalServerError, match="no scripted reply"):
        chat_model(fake_openai).invoke("hi")


def test_the_models_endpoint_lists_models(fake_openai: FakeOpenAIServer) -> None:
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-test", max_retries=0)
    try:
        models = client.models.list()
    finally:
        client.close()

    assert [model.id for model in models] == ["gpt-4o-mini", "gpt-4o"]


def test_the_chat_path_without_the_v1_prefix_also_answers(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(FakeReply.text("ok", prompt_tokens=3, completion_tokens=1))

    response = httpx.post(
        f"{fake_openai.url}/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
        timeout=5,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o"
    assert body["choices"][0]["message"]["content"] == "ok"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}


def test_stopping_the_server_leaves_no_thread_behind() -> None:
    fake = FakeOpenAIServer().start()
    fake.enqueue(FakeReply.text("ok"))
    chat_model(fake).invoke("hi")
    name = f"fake-openai:{fake.port}"

    fake.stop()

    assert name not in {thread.name for thread in threading.enumerate()}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{int(name.split(':')[1])}/v1/models", timeout=1)
