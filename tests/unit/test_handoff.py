"""Handoff tools: what the model sees, and the command they give the turn graph."""

from __future__ import annotations

import uuid

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.types import Command, Send

from agenthub.agents.graph import AGENT_NODE, _handoff_tool
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
    schema = convert_to_openai_tool(_handoff_tool(DEBT))["function"]

    assert schema["name"] == "transfer_to_debt"
    assert set(schema["parameters"]["properties"]) == {"reason"}


@pytest.mark.parametrize("reason", [None, "", "the user asks about debt"])
def test_a_handoff_sends_the_conversation_to_the_agent_node(reason: str | None) -> None:
    state = {"messages": [HumanMessage("Debt for MST 0123456789")]}
    call = {
        "type": "tool_call",
        "id": "call-1",
        "name": "transfer_to_debt",
        "args": {"reason": reason, "state": state},
    }

    command = _handoff_tool(DEBT).invoke(call)

    assert isinstance(command, Command) and command.graph == Command.PARENT
    [send] = command.goto
    assert isinstance(send, Send) and send.node == AGENT_NODE
    assert send.arg["agent"] == "debt"
    assert send.arg["reason"] == (reason or "")
    assert [m.content for m in send.arg["messages"]] == ["Debt for MST 0123456789"]
