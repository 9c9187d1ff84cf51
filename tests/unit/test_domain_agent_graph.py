"""A domain agent's graph is its model and its tools: corrections and direct answers run around
the model call, not as graph nodes of their own (each node is a LangGraph task per model call)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import BaseTool, tool

from agenthub.agents.domain_agent import build_domain_agent
from agenthub.domain import AgentSpec, LlmSpec, OutputFormatSpec, ToolSpec

CARD = OutputFormatSpec(
    name="card",
    renderer_hint="card",
    json_schema={"type": "object", "required": ["title"], "properties": {"title": {}}},
)


@tool
def lookup(mst: str) -> str:
    """Look up a customer's debt by MST."""
    return mst


def tools_for(specs: Sequence[ToolSpec]) -> list[BaseTool]:
    return [lookup]


@pytest.mark.parametrize("output_format", [CARD, OutputFormatSpec(name="text", renderer_hint="md")])
@pytest.mark.parametrize("structured_output", ["tool", "provider", "prompt"])
def test_the_graph_has_no_node_besides_the_model_and_the_tools(
    output_format: OutputFormatSpec, structured_output: str
) -> None:
    spec = AgentSpec(
        id=uuid.uuid4(),
        name="debt",
        display_name="Debt",
        description="Customer debt by MST",
        system_prompt="You are the Debt agent.",
        output_format=output_format,
    )
    llm = LlmSpec(
        provider="openai", model_name="gpt-x", extra={"structured_output": structured_output}
    )
    model = GenericFakeChatModel(messages=iter([AIMessage("unused")]))

    graph = build_domain_agent(spec, model, llm, tools_for)

    assert set(graph.nodes) == {"__start__", "model", "tools"}
