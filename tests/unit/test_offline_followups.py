"""The offline model follows a conversation, routes one intent to one agent, and asks in
plain words (findings of the outside test battery)."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agenthub.llm.offline import OfflineChatModel
from agenthub.llm.offline_answers import OFFLINE_MARKER
from tests.unit.test_offline_model import (
    MST_SCHEMA,
    agent_system,
    business_tool,
    calls_of,
    handoff,
)

THREE_AGENTS = [  # the demo's two agents and a third that also lists things by customer
    handoff(
        "debt",
        "Customer debt and receivables from the ERP: balances, overdue amounts, credit limits "
        "by MST (tax code)",
    ),
    handoff(
        "shipment",
        "Shipment tracking and delivery status from the logistics system, by tracking id",
    ),
    handoff("orders", "Customer orders: list all orders of a customer by MST"),
]
SHIPMENTS_BY_MST = business_tool(
    "list_shipments_by_mst", "List a customer's shipments by MST (tax code)", MST_SCHEMA
)
DEBT_ANSWER = OFFLINE_MARKER + "Công ty TNHH An Phát (MST 0123456789) owes 125,000,000 VND."


def supervise(messages: list[BaseMessage]) -> AIMessage:
    reply = OfflineChatModel().bind_tools(THREE_AGENTS).invoke([SystemMessage("Route."), *messages])
    assert isinstance(reply, AIMessage)
    return reply


def test_one_request_naming_a_customer_goes_to_one_agent_not_three() -> None:
    reply = supervise([HumanMessage("List all shipments of customer MST 0123456789")])

    assert [name for name, _ in calls_of(reply)] == ["transfer_to_shipment"]


def test_two_requests_in_one_message_still_go_to_two_agents() -> None:
    reply = supervise([HumanMessage("debt of MST 0123456789 and the shipments of 0123456789")])

    assert [name for name, _ in calls_of(reply)] == ["transfer_to_debt", "transfer_to_shipment"]


def test_a_follow_up_goes_to_the_agent_it_asks_about() -> None:
    reply = supervise(
        [
            HumanMessage("What is the debt of MST 0123456789?"),
            AIMessage(DEBT_ANSWER),
            HumanMessage("and what about its shipments?"),
        ]
    )

    assert [name for name, _ in calls_of(reply)] == ["transfer_to_shipment"]


def test_a_follow_up_takes_the_mst_from_the_conversation() -> None:
    history: list[BaseMessage] = [
        agent_system(),
        HumanMessage("What is the debt of MST 0123456789?"),
        AIMessage(DEBT_ANSWER),
        HumanMessage("and what about its shipments?"),
    ]

    reply = OfflineChatModel().bind_tools([SHIPMENTS_BY_MST]).invoke(history)

    assert calls_of(reply) == [("list_shipments_by_mst", {"mst": "0123456789"})]


def test_the_latest_value_in_the_conversation_wins() -> None:
    history: list[BaseMessage] = [
        agent_system(),
        HumanMessage("debt of MST 0123456789"),
        AIMessage(DEBT_ANSWER),
        HumanMessage("and of 0987654321?"),
        AIMessage(OFFLINE_MARKER + "It owes nothing."),
        HumanMessage("its shipments, please"),
    ]

    reply = OfflineChatModel().bind_tools([SHIPMENTS_BY_MST]).invoke(history)

    assert calls_of(reply) == [("list_shipments_by_mst", {"mst": "0987654321"})]


def test_without_a_value_anywhere_in_the_conversation_it_still_asks() -> None:
    history: list[BaseMessage] = [agent_system(), HumanMessage("and what about its shipments?")]

    reply = OfflineChatModel().bind_tools([SHIPMENTS_BY_MST]).invoke(history)

    assert reply.tool_calls == []


def test_asking_for_a_value_reads_as_english() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "mst": {
                "type": "string",
                "pattern": "^[0-9]{10}$",
                "description": "the customer's MST (tax code): 10 digits",
            }
        },
        "required": ["mst"],
    }
    tool = business_tool("get_debt", "Debt by MST", schema)
    reply = OfflineChatModel().bind_tools([tool]).invoke([agent_system(), HumanMessage("debt?")])

    text = json.loads(str(reply.content))["text"]
    assert "valid the" not in text
    assert text == OFFLINE_MARKER + (
        "Please provide a valid customer's MST (tax code): 10 digits (e.g. 0123456789)."
    )
