"""UsageCollector: one entry per model call, priced, also across LangGraph subgraphs."""

from __future__ import annotations

import json
import threading
import uuid
from decimal import Decimal
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import StructuredTool
from langgraph.graph import START, MessagesState, StateGraph

from agenthub.llm.offline import OfflineChatModel
from agenthub.llm.usage import LlmCall, Usage, UsageCollector, cost_of

PRICES = {
    "offline": (Decimal("0.5"), Decimal("1.5")),
    "gpt-4o-mini": (Decimal("0.00015"), Decimal("0.0006")),
}


def chat_result(
    *,
    usage: dict[str, int] | None,
    response_metadata: dict[str, Any] | None = None,
    llm_output: dict[str, Any] | None = None,
) -> LLMResult:
    message = AIMessage(
        content="ok",
        usage_metadata=usage,  # type: ignore[arg-type]
        response_metadata=response_metadata or {},
    )
    return LLMResult(generations=[[ChatGeneration(message=message)]], llm_output=llm_output)


def record(collector: UsageCollector, result: LLMResult) -> None:
    collector.on_llm_end(result, run_id=uuid.uuid4())


def test_records_tokens_model_and_cost_of_each_call() -> None:
    collector = UsageCollector(PRICES)

    record(
        collector,
        chat_result(
            usage={"input_tokens": 1000, "output_tokens": 200, "total_tokens": 1200},
            response_metadata={"model_name": "gpt-4o-mini"},
        ),
    )

    assert collector.calls == [
        LlmCall(
            model_name="gpt-4o-mini",
            input_tokens=1000,
            output_tokens=200,
            cost_usd=Decimal("0.00015") + Decimal("0.00012"),
        )
    ]


def test_a_dated_model_name_is_priced_by_its_configured_prefix() -> None:
    assert cost_of("gpt-4o-mini-2024-07-18", 2000, 0, PRICES) == Decimal("0.0003")


def test_an_unknown_model_costs_nothing_but_its_tokens_are_counted() -> None:
    collector = UsageCollector(PRICES)

    record(
        collector,
        chat_result(
            usage={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
            response_metadata={"model_name": "mystery-model"},
        ),
    )

    assert collector.totals() == Usage(input_tokens=10, output_tokens=5, cost_usd=Decimal(0))


def test_falls_back_to_llm_output_for_the_model_name_and_token_counts() -> None:
    collector = UsageCollector(PRICES)

    record(
        collector,
        chat_result(
            usage=None,
            llm_output={
                "model_name": "gpt-4o-mini",
                "token_usage": {"prompt_tokens": 1000, "completion_tokens": 1000},
            },
        ),
    )

    [call] = collector.calls
    assert (call.model_name, call.input_tokens, call.output_tokens) == ("gpt-4o-mini", 1000, 1000)
    assert call.cost_usd == Decimal("0.00075")


def test_totals_of_no_calls_are_zero() -> None:
    assert UsageCollector().totals() == Usage(0, 0, Decimal(0))


def test_calls_recorded_from_many_threads_are_all_kept() -> None:
    collector = UsageCollector(PRICES)
    result = chat_result(
        usage={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
        response_metadata={"model_name": "offline"},
    )

    def work() -> None:
        for _ in range(200):
            record(collector, result)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    totals = collector.totals()
    assert len(collector.calls) == 1600
    assert (totals.input_tokens, totals.output_tokens) == (1600, 3200)


def test_counts_every_model_call_of_a_graph_with_parallel_agent_subgraphs() -> None:
    # GIVEN a graph: a routing model call, then two create_agent subgraphs running side by side
    debt_schema = {
        "type": "object",
        "properties": {"mst": {"type": "string", "pattern": "^[0-9]{10}$"}},
        "required": ["mst"],
    }
    tool = StructuredTool.from_function(
        func=lambda mst: json.dumps({"customer_name": "An Phát", "total_debt": 10}),
        name="get_customer_debt_by_mst",
        description="Customer debt",
        args_schema=debt_schema,
    )
    prompt = '## Output format: text\nRenderer hint: markdown\nSchema: {"type":"null"}'
    debt = create_agent(OfflineChatModel(), tools=[tool], system_prompt=prompt, name="debt")
    other = create_agent(OfflineChatModel(), tools=[tool], system_prompt=prompt, name="other")

    def route(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        reply = OfflineChatModel().invoke(state["messages"], config)
        return {"messages": [reply]}

    builder = StateGraph(MessagesState)
    builder.add_node("route", route)
    builder.add_node("debt", debt)
    builder.add_node("other", other)
    builder.add_edge(START, "route")
    builder.add_edge("route", "debt")
    builder.add_edge("route", "other")
    graph = builder.compile()
    collector = UsageCollector(PRICES)

    # WHEN the graph runs with the collector as a callback
    out = graph.invoke(
        {"messages": [HumanMessage("debt for 0123456789")]}, {"callbacks": [collector]}
    )

    # THEN each model call is recorded once: 1 routing call + 2 calls per agent
    calls = collector.calls
    assert len(calls) == 5
    assert {c.model_name for c in calls} == {"offline"}
    ai_messages = [m for m in out["messages"] if isinstance(m, AIMessage)]
    assert len({m.id for m in ai_messages}) == 5
    expected_in = sum(m.usage_metadata["input_tokens"] for m in ai_messages if m.usage_metadata)
    expected_out = sum(m.usage_metadata["output_tokens"] for m in ai_messages if m.usage_metadata)
    totals = collector.totals()
    assert (totals.input_tokens, totals.output_tokens) == (expected_in, expected_out)
    assert totals.cost_usd == (
        Decimal(expected_in) * Decimal("0.5") + Decimal(expected_out) * Decimal("1.5")
    ) / Decimal(1000)


class _Recording(UsageCollector):
    """The collector, noting which of its callbacks LangChain calls."""

    def __init__(self) -> None:
        super().__init__(PRICES)
        self.events: list[str] = []

    def on_chain_start(self, *args: Any, **kwargs: Any) -> None:
        self.events.append("chain_start")

    def on_llm_start(self, *args: Any, **kwargs: Any) -> None:
        # LangChain's fallback for a handler without on_chat_model_start: it first turns the
        # whole prompt into text.
        self.events.append("llm_start")

    def on_tool_start(self, *args: Any, **kwargs: Any) -> None:
        self.events.append("tool_start")

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.events.append("llm_end")
        super().on_llm_end(response, **kwargs)


def test_is_called_at_the_end_of_each_model_call_and_for_nothing_else() -> None:
    # GIVEN an agent with a tool (graph, nodes, model calls and a tool call all raise events)
    tool = StructuredTool.from_function(
        func=lambda mst: json.dumps({"customer_name": "An Phát", "total_debt": 10}),
        name="get_customer_debt_by_mst",
        description="Customer debt",
        args_schema={
            "type": "object",
            "properties": {"mst": {"type": "string", "pattern": "^[0-9]{10}$"}},
            "required": ["mst"],
        },
    )
    prompt = '## Output format: text\nRenderer hint: markdown\nSchema: {"type":"null"}'
    agent = create_agent(OfflineChatModel(), tools=[tool], system_prompt=prompt, name="debt")
    collector = _Recording()

    # WHEN it answers with the collector as a callback
    agent.invoke({"messages": [HumanMessage("debt for 0123456789")]}, {"callbacks": [collector]})

    # THEN the collector heard only the ends of the two model calls, and both were recorded
    assert collector.events == ["llm_end", "llm_end"]
    assert len(collector.calls) == 2
