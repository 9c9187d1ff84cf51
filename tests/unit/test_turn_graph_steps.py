"""A turn runs no step it does not need (each step is a LangGraph task): the node that knows the
turn's answer writes it, and `respond` runs only to merge several agents' answers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import BaseTool, tool
from langgraph.checkpoint.memory import InMemorySaver

from agenthub.agents.graph import build_turn_graph, new_turn_input
from agenthub.domain import AgentSpec, LlmSpec, OutputFormatSpec, TenantRuntimeConfig, ToolSpec
from agenthub.llm.offline import OfflineChatModel

TEXT = OutputFormatSpec(name="text", renderer_hint="markdown")


@tool
def get_debt(mst: str) -> str:
    """Customer debt by MST (tax code)."""
    return f'{{"mst": "{mst}", "total_debt": 125000000, "currency": "VND"}}'


@tool
def track_shipment(tracking_id: str) -> str:
    """Shipment status by tracking id."""
    return f'{{"tracking_id": "{tracking_id}", "status": "in transit"}}'


def _agent(name: str, description: str) -> AgentSpec:
    return AgentSpec(
        id=uuid.uuid4(),
        name=name,
        display_name=name.title(),
        description=description,
        system_prompt=f"You are the {name} agent.",
        output_format=TEXT,
        tools=(
            ToolSpec(
                id=uuid.uuid4(), name=name, description=name, type="HTTP_GET", input_schema={}
            ),
        ),
    )


def _tools_for(specs: Sequence[ToolSpec]) -> list[BaseTool]:
    return [get_debt if spec.name == "debt" else track_shipment for spec in specs]


def _steps(message: str, *, policy: str = "parallel") -> tuple[list[str], dict[str, Any]]:
    """The turn graph's steps for one message (nodes, in order), and the turn's final state."""
    tenant = TenantRuntimeConfig(
        tenant_id="acme",
        tenant_name="ACME",
        config_version=1,
        multi_intent_policy=policy,
        llm=LlmSpec(provider="offline", model_name="offline"),
        agents=(
            _agent("debt", "Customer debt and receivables by MST (tax code)"),
            _agent("shipment", "Shipment tracking and delivery status by tracking id"),
        ),
    )
    graph = build_turn_graph(
        tenant,
        model_for=lambda spec: OfflineChatModel(),
        tools_for=_tools_for,
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": f"tenant_acme__user_u__session_{uuid.uuid4()}"}}
    steps: list[str] = []
    final: dict[str, Any] = {}
    for mode, chunk in graph.stream(
        new_turn_input(HumanMessage(message)), config, stream_mode=["updates", "values"]
    ):
        if mode == "updates":
            steps.extend(chunk)
        else:
            final = chunk
    return steps, final


@pytest.mark.parametrize("policy", ["parallel", "reject"])
def test_a_turn_the_supervisor_answers_is_one_step(policy: str) -> None:
    steps, state = _steps("hello", policy=policy)

    assert steps == ["supervisor"]
    assert state["answer"].agent == "supervisor" and state["answer"].text
    assert state["messages"][-1].content == state["answer"].text


def test_a_turn_one_agent_answers_ends_with_that_agent() -> None:
    steps, state = _steps("What is the debt of MST 0123456789?")

    assert steps == ["supervisor", "agent"]
    assert state["answer"].agent == "debt"
    assert state["routing"].agent == "debt" and state["routing"].status == "ok"
    assert state["messages"][-1].name == "debt"


def test_several_agents_answers_are_merged_by_respond_once() -> None:
    steps, state = _steps("debt of MST 0123456789 and where is shipment VN123456789")

    assert steps == ["supervisor", "agent", "agent", "respond"]
    assert state["answer"].format == "sections"
    assert list(state["routing"].intents) == ["debt", "shipment"]


def test_several_intents_under_the_reject_policy_are_answered_by_the_supervisor() -> None:
    steps, state = _steps(
        "debt of MST 0123456789 and where is shipment VN123456789", policy="reject"
    )

    assert steps == ["supervisor"]
    assert list(state["routing"].intents) == ["debt", "shipment"]
