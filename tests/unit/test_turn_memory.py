"""The checkpointed transcript stays bounded; the model sees a sliding window of it."""

from __future__ import annotations

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from agenthub.agents.graph import MAX_REMEMBERED_MESSAGES, build_turn_graph, new_turn_input
from agenthub.agents.memory import window
from agenthub.domain import LlmSpec, TenantRuntimeConfig
from agenthub.llm.offline import OfflineChatModel


def test_the_checkpointed_transcript_keeps_only_the_newest_messages() -> None:
    tenant = TenantRuntimeConfig(
        tenant_id="acme",
        tenant_name="ACME",
        config_version=1,
        llm=LlmSpec(provider="offline", model_name="offline"),
    )
    graph = build_turn_graph(
        tenant,
        model_for=lambda spec: OfflineChatModel(),
        tools_for=lambda specs: [],
        checkpointer=InMemorySaver(),
    )
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
