"""The checkpointed transcript stays bounded; the model sees a sliding window of it."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from agenthub.agents.graph import MAX_REMEMBERED_MESSAGES, new_turn_input
from agenthub.agents.memory import window
from tests.support.offline_graph import offline_turn_graph


def test_the_checkpointed_transcript_keeps_only_the_newest_messages() -> None:
    graph = offline_turn_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "tenant_acme__user_u__session_s"}}
    turns = MAX_REMEMBERED_MESSAGES // 2 + 5

    for i in range(turns):
        state = graph.invoke(new_turn_input(HumanMessage(f"hello {i}")), config)

    messages = state["messages"]
    assert len(messages) == MAX_REMEMBERED_MESSAGES
    assert messages[-2].content == f"hello {turns - 1}"  # the newest turn is all there
    assert messages[0].content == f"hello {turns - MAX_REMEMBERED_MESSAGES // 2}"


def test_the_window_fits_the_token_budget_and_starts_on_a_user_message() -> None:
    history = [HumanMessage(f"question {i} " + "word " * 50) for i in range(20)]

    seen = window(history, max_tokens=300)

    assert 0 < len(seen) < len(history)
    assert seen[-1] is history[-1]
    assert isinstance(seen[0], HumanMessage)


def test_a_conversation_within_the_budget_is_seen_whole_without_tool_traffic() -> None:
    call = {"name": "lookup", "args": {}, "id": "c1"}
    history = [
        HumanMessage("question 1"),
        AIMessage("", tool_calls=[call]),
        ToolMessage("{}", tool_call_id="c1"),
        AIMessage("answer 1"),
        HumanMessage("question 2"),
    ]

    seen = window(history, max_tokens=4000)

    assert [m.content for m in seen] == ["question 1", "answer 1", "question 2"]


def test_the_window_never_starts_on_an_answer() -> None:
    # (the question it answered was forgotten: the checkpoint keeps the newest messages only)
    history = [AIMessage("an answer"), HumanMessage("question")]

    assert [m.content for m in window(history, max_tokens=4000)] == ["question"]


def test_a_turns_answer_and_routing_are_returned_but_not_checkpointed() -> None:
    # (the checkpoint is the model's memory; the messages table keeps every answer)
    saver = InMemorySaver()
    graph = offline_turn_graph(saver)
    config = {"configurable": {"thread_id": "tenant_acme__user_u__session_s"}}

    state = graph.invoke(new_turn_input(HumanMessage("hello")), config)

    assert state["answer"] is not None and state["routing"] is not None
    saved = saver.get_tuple(config)
    assert saved is not None
    stored = saved.checkpoint["channel_values"]
    assert "answer" not in stored and "routing" not in stored
    assert stored["messages"][-1].content == state["answer"].text
