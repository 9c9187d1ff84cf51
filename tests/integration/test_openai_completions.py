"""Our chat completions resource sends what the openai SDK's own `create` sends, without its
request transform; anything that is not plain JSON still goes through the SDK's `create`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated, Any, get_args, get_origin

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai._utils import PropertyInfo
from openai.resources.chat.completions import completions as completions_module
from openai.types.beta.agents.automation_target_param import AutomationTargetParamNewSession
from openai.types.chat import completion_create_params
from pydantic import BaseModel, SecretStr
from typing_extensions import get_type_hints, is_typeddict

from agenthub.domain import LlmSpec
from agenthub.llm.openai_completions import AsyncPlainJsonCompletions, PlainJsonCompletions
from agenthub.llm.providers import ModelOptions, build_chat_model
from tests.support import servers
from tests.support.fake_openai import FakeOpenAIServer, FakeReply

fake_openai = servers.fake_openai

CARD_SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "data": {
            "anyOf": [
                {"type": "object", "properties": {"total": {"type": "number"}}},
                {"type": "null"},
            ]
        },
    },
    "required": ["text", "data"],
}
# A request with every kind of value langchain-openai sends: nested content parts, an earlier
# tool call and its result, tool schemas, a forced tool choice, a JSON schema, extra body fields.
REQUEST: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "Bạn là trợ lý công nợ."},
        {"role": "user", "content": [{"type": "text", "text": "Công nợ của MST 0123456789?"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_debt", "arguments": '{"mst": "0123456789"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"total": 1500000.5}'},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "final_answer",
                "description": "Answer",
                "parameters": CARD_SCHEMA,
            },
        }
    ],
    "tool_choice": {"type": "function", "function": {"name": "final_answer"}},
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "card", "schema": CARD_SCHEMA, "strict": False},
    },
    "max_completion_tokens": 256,
    "temperature": 0.0,
    "parallel_tool_calls": False,
    "stream": False,
}


class TransformCalls:
    """Counts the SDK's request transforms (the work our resource saves)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        transform = completions_module.maybe_transform
        async_transform = completions_module.async_maybe_transform

        def counted(data: Any, expected_type: Any) -> Any:
            self.count += 1
            return transform(data, expected_type)

        async def async_counted(data: Any, expected_type: Any) -> Any:
            self.count += 1
            return await async_transform(data, expected_type)

        monkeypatch.setattr(completions_module, "maybe_transform", counted)
        monkeypatch.setattr(completions_module, "async_maybe_transform", async_counted)


@pytest.fixture
def transforms(monkeypatch: pytest.MonkeyPatch) -> TransformCalls:
    return TransformCalls(monkeypatch)


@pytest.fixture
def sdk(fake_openai: FakeOpenAIServer) -> Iterator[OpenAI]:
    client = OpenAI(base_url=fake_openai.base_url, api_key="sk-test", max_retries=0)
    yield client
    client.close()


def _property_infos(annotation: Any, seen: set[int]) -> Iterator[PropertyInfo]:
    if id(annotation) in seen:
        return
    seen.add(id(annotation))
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        yield from (m for m in metadata if isinstance(m, PropertyInfo))
        yield from _property_infos(base, seen)
    elif is_typeddict(annotation):
        for hint in get_type_hints(annotation, include_extras=True).values():
            yield from _property_infos(hint, seen)
    else:
        for arg in get_args(annotation):
            yield from _property_infos(arg, seen)


def transform_rules(params_type: Any) -> list[PropertyInfo]:
    """The aliases and formats the SDK's transform would apply to `params_type`'s values."""
    return [
        info
        for info in _property_infos(params_type, set())
        if info.alias is not None or info.format is not None
    ]


def test_the_sdk_declares_no_alias_or_format_for_any_chat_completion_parameter() -> None:
    # The premise of posting the body untransformed; a new SDK that adds one fails here.
    assert transform_rules(AutomationTargetParamNewSession), "the check must see a nested alias"
    assert transform_rules(completion_create_params.CompletionCreateParamsNonStreaming) == []
    assert transform_rules(completion_create_params.CompletionCreateParamsStreaming) == []


def test_the_body_headers_and_reply_are_the_sdks_without_its_transform(
    fake_openai: FakeOpenAIServer, sdk: OpenAI, transforms: TransformCalls
) -> None:
    answer = {"text": "1.500.000 đ", "data": {"total": 1.5}}
    reply = FakeReply.tool_call("final_answer", answer, id="call_2")
    fake_openai.enqueue(reply, reply)
    options = {"extra_headers": {"X-Trace": "t1"}, "extra_body": {"user": "u-1"}, "timeout": 5}

    ours = PlainJsonCompletions(sdk).create(**REQUEST, **options, top_p=openai.omit)
    assert transforms.count == 0
    theirs = sdk.chat.completions.create(**REQUEST, **options, top_p=openai.omit)

    ours_sent, theirs_sent = fake_openai.chat_requests
    assert ours_sent.body == theirs_sent.body
    assert ours_sent.body is not None and ours_sent.body["user"] == "u-1"
    assert "top_p" not in ours_sent.body  # omitted arguments are left out, as the SDK does
    volatile = {"x-stainless-retry-count", "x-stainless-read-timeout"}
    assert {k: v for k, v in ours_sent.headers.items() if k not in volatile} == {
        k: v for k, v in theirs_sent.headers.items() if k not in volatile
    }
    assert ours_sent.api_key == "sk-test"
    assert ours.model_dump(exclude={"id", "created"}) == theirs.model_dump(
        exclude={"id", "created"}
    )


def test_values_that_are_not_plain_json_go_through_the_sdks_create(
    fake_openai: FakeOpenAIServer, sdk: OpenAI, transforms: TransformCalls
) -> None:
    fake_openai.enqueue(FakeReply.text("a"), FakeReply.text("b"))
    messages = ({"role": "user", "content": "xin chào"},)  # a tuple: the SDK makes it a list

    PlainJsonCompletions(sdk).create(model="gpt-4o-mini", messages=messages)
    assert transforms.count == 1
    sdk.chat.completions.create(model="gpt-4o-mini", messages=messages)

    ours_sent, theirs_sent = fake_openai.chat_requests
    assert ours_sent.body == theirs_sent.body

    class Card(BaseModel):
        total: float

    with pytest.raises(TypeError, match="parse"):  # the SDK's own answer to a model class
        PlainJsonCompletions(sdk).create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "x"}],
            response_format=Card,  # type: ignore[arg-type]
        )


def test_the_async_resource_sends_the_same_body(
    fake_openai: FakeOpenAIServer, transforms: TransformCalls
) -> None:
    fake_openai.enqueue(FakeReply.text("a"), FakeReply.text("b"))

    async def both() -> None:
        client = AsyncOpenAI(base_url=fake_openai.base_url, api_key="sk-test", max_retries=0)
        await AsyncPlainJsonCompletions(client).create(**REQUEST)
        assert transforms.count == 0
        await client.chat.completions.create(**REQUEST)
        await client.close()

    asyncio.run(both())

    ours_sent, theirs_sent = fake_openai.chat_requests
    assert ours_sent.body == theirs_sent.body


def openai_compatible(fake: FakeOpenAIServer) -> Any:
    spec = LlmSpec.model_validate(
        {"provider": "openai_compatible", "model_name": "gpt-4o-mini", "base_url": fake.base_url}
    )
    options = ModelOptions(timeout_s=5, max_retries=0)
    return build_chat_model(spec, decrypt=SecretStr, options=options)


def test_built_openai_models_use_it_for_calls_and_streams(
    fake_openai: FakeOpenAIServer, transforms: TransformCalls
) -> None:
    model = openai_compatible(fake_openai)
    assert isinstance(model.client, PlainJsonCompletions)
    assert isinstance(model.async_client, AsyncPlainJsonCompletions)
    fake_openai.enqueue(
        replace(FakeReply.tool_call("get_debt", {"mst": "0123456789"}), prompt_tokens=9),
        FakeReply.text("Xin chào bạn"),
        FakeReply.text("Tạm biệt"),
    )
    tool = {"type": "function", "function": {"name": "get_debt", "parameters": {}}}

    called = model.bind_tools([tool]).invoke("Công nợ?")
    streamed = "".join(str(chunk.content) for chunk in model.stream("Chào"))

    async def astream() -> str:
        return "".join([str(chunk.content) async for chunk in model.astream("Bye")])

    assert called.tool_calls[0]["args"] == {"mst": "0123456789"}
    assert called.usage_metadata["input_tokens"] == 9
    assert streamed == "Xin chào bạn"
    assert asyncio.run(astream()) == "Tạm biệt"
    assert transforms.count == 0
    first, second, third = fake_openai.chat_requests
    assert first.tool_names == ["get_debt"] and not first.stream
    assert second.stream and third.stream
    assert second.body is not None and second.body["stream_options"] == {"include_usage": True}


def test_provider_errors_are_the_sdks(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(FakeReply.invalid_api_key())

    with pytest.raises(openai.AuthenticationError):
        openai_compatible(fake_openai).invoke("hi")
