"""Runtime tools read the caller from the graph run's context and carry their metrics with
their result (the ToolMessage artifact)."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.messages import ToolMessage
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, SecretStr

from agenthub.domain import ToolContext
from agenthub.tools.base import CallResult, ToolFailure, runtime_tool

CONTEXT = ToolContext(tenant_id="acme", user_id="alice", user_jwt=SecretStr("jwt"))


class Args(BaseModel):
    mst: str


class State(TypedDict, total=False):
    result: Any


def _execute(arguments: dict[str, Any], context: ToolContext) -> CallResult:
    if arguments["mst"] == "bad":
        raise ToolFailure("http_status", "not found", status=404)
    return CallResult(f"{context.tenant_id}/{context.user_id}/{arguments['mst']}", http_status=200)


TOOL = runtime_tool(
    tool_id="t-1", name="lookup", description="Look up", args_model=Args, execute=_execute
)


def _run(mst: str) -> ToolMessage:
    def node(state: State) -> State:
        call = {"name": "lookup", "args": {"mst": mst}, "id": "call_1", "type": "tool_call"}
        return {"result": TOOL.invoke(call)}

    graph = StateGraph(State, context_schema=ToolContext)
    graph.add_node("call", node)
    graph.add_edge(START, "call")
    graph.add_edge("call", END)
    result = graph.compile().invoke({}, context=CONTEXT)["result"]
    assert isinstance(result, ToolMessage)
    return result


def test_a_tool_in_a_graph_run_gets_the_caller_from_the_runs_context() -> None:
    message = _run("0123456789")

    assert message.content == "acme/alice/0123456789"
    assert message.status == "success"
    assert message.artifact["tool_id"] == "t-1"
    assert (message.artifact["outcome"], message.artifact["http_status"]) == ("ok", 200)
    assert message.artifact["latency_ms"] >= 0


def test_a_failed_call_is_an_error_result_with_its_metrics() -> None:
    message = _run("bad")

    assert message.status == "error"
    assert '"status":404' in str(message.content)
    assert (message.artifact["outcome"], message.artifact["http_status"]) == ("http_status", 404)


def test_without_any_context_the_call_fails_as_a_tool_result() -> None:
    call = {"name": "lookup", "args": {"mst": "1"}, "id": "call_1", "type": "tool_call"}

    message = TOOL.invoke(call)

    assert isinstance(message, ToolMessage) and message.status == "error"
    assert message.artifact["outcome"] == "no_context"
