"""Handoffs: what the supervisor's model sees, and the run they give the turn graph."""

from __future__ import annotations

import uuid

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolCall
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.types import Send

from agenthub.agents.graph import AGENT_NODE, _handoff, handoff_tool
from agenthub.domain import AgentSpec, OutputFormatSpec

DEBT = AgentSpec(
    id=uuid.uuid4(),
    name="debt",
    display_name="Debt",
    description="Customer debt by MST",
    system_prompt="You are the Debt agent.",
    output_format=OutputFormatSpec(name="text", renderer_hint="markdown"),
)


def test_the_model_sees_only_the_reason_argument() -> None:
    schema = convert_to_openai_tool(handoff_tool(DEBT))["function"]

    assert schema["name"] == "transfer_to_debt"
    assert schema["description"] == "Hand the request to the Debt agent: Customer debt by MST"
    assert set(schema["parameters"]["properties"]) == {"reason"}
    assert not schema["parameters"].get("required")


@pytest.mark.parametrize("reason", [None, "", 42, "the user asks about debt"])
def test_a_handoff_sends_the_conversation_to_the_agent_node(reason: object) -> None:
    asked = AIMessage("", tool_calls=[{"id": "call-0", "name": "transfer_to_debt", "args": {}}])
    conversation = [HumanMessage("Hi"), AIMessage("Hello!"), asked, HumanMessage("Debt for MST 1")]
    call = ToolCall(id="call-1", name="transfer_to_debt", args={"reason": reason})

    send = _handoff(DEBT, call, conversation)

    assert isinstance(send, Send) and send.node == AGENT_NODE
    assert send.arg["agent"] == "debt"
    assert send.arg["reason"] == (reason if isinstance(reason, str) else "")
    # The user-visible conversation only: no supervisor tool traffic.
    assert [m.content for m in send.arg["messages"]] == ["Hi", "Hello!", "Debt for MST 1"]
