"""What streams of a reply: the answer's text, decoded as it arrives; never the JSON around it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage

from agenthub.llm.offline import OfflineChatModel
from agenthub.services.stream_text import AnswerText, PlainText


def _streamed(reader: AnswerText | PlainText, pieces: list[str]) -> str:
    return "".join(reader.feed(piece) for piece in pieces)


def _split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 100])
def test_the_text_of_a_json_answer_streams_without_its_json(size: int) -> None:
    reply = json.dumps({"text": 'ACME owes 1,200 "VND".\nPay by\tFriday é', "data": {"a": 1}})

    assert (
        _streamed(AnswerText(), _split(reply, size)) == 'ACME owes 1,200 "VND".\nPay by\tFriday é'
    )


@given(
    text=st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    data=st.none() | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    size=st.integers(min_value=1, max_value=9),
    ascii_only=st.booleans(),
)
def test_any_json_answer_streams_exactly_its_text_in_any_chunking(
    text: str, data: dict[str, int] | None, size: int, ascii_only: bool
) -> None:
    reply = json.dumps({"text": text, "data": data}, ensure_ascii=ascii_only)

    streamed = _streamed(AnswerText(), _split(reply, size))

    assert streamed == text


def test_a_fenced_json_answer_streams_its_text() -> None:
    reply = '```json\n{"text": "Shipment SHP-1001 is in transit.", "data": null}\n```'

    assert _streamed(AnswerText(), _split(reply, 4)) == "Shipment SHP-1001 is in transit."


def test_json_that_does_not_start_with_the_text_does_not_stream() -> None:
    reply = json.dumps({"data": {"rows": [[1, 2]]}, "text": "A table"})

    assert _streamed(AnswerText(), _split(reply, 3)) == ""


def test_a_plain_text_reply_streams_as_it_is() -> None:
    assert _streamed(AnswerText(), ["Sorry, ", "I need ", "a tax code."]) == (
        "Sorry, I need a tax code."
    )
    assert _streamed(PlainText(), ["[offline", " model]"]) == "[offline model]"


def test_the_offline_model_streams_its_reply_word_by_word_and_the_same_message() -> None:
    model = OfflineChatModel()
    messages = [SystemMessage("You are a helpful assistant"), HumanMessage("hello")]

    chunks = list(model.stream(messages))
    whole = model.invoke(messages)

    words = [c.content for c in chunks if c.content]
    assert len(words) > 5
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert isinstance(whole, AIMessage)
    assert merged.content == whole.content
    assert merged.usage_metadata == whole.usage_metadata


def test_the_offline_models_streamed_tool_calls_are_the_same_calls() -> None:
    from langchain_core.tools import tool

    @tool
    def transfer_to_debt(reason: str = "") -> str:
        """Hand the request to the Debt agent: debt of a company by tax code (MST)"""
        return reason

    model = OfflineChatModel().bind_tools([transfer_to_debt])
    messages = [HumanMessage("debt for MST 0123456789")]

    chunks = list(model.stream(messages))
    whole = model.invoke(messages)

    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert isinstance(merged, AIMessageChunk) and isinstance(whole, AIMessage)
    assert merged.tool_calls == whole.tool_calls
    assert [c["name"] for c in merged.tool_calls] == ["transfer_to_debt"]
