"""The offline chat model: routing as a supervisor, tool use and answers as a domain agent."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from agenthub.llm.offline import OfflineChatModel
from agenthub.llm.offline_answers import OFFLINE_MARKER

MST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "mst": {
            "type": "string",
            "pattern": "^[0-9]{10}(-[0-9]{3})?$",
            "description": "Vietnamese tax code (MST): 10 digits or 10-3 digits",
        }
    },
    "required": ["mst"],
}
SHIPMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "tracking_id": {
            "type": "string",
            "pattern": "^SHP-[0-9]{4,}$",
            "description": "Shipment tracking id",
        }
    },
    "required": ["tracking_id"],
}
DEBT_RESULT: dict[str, Any] = {
    "mst": "0123456789",
    "customer_name": "Công ty TNHH An Phát",
    "currency": "VND",
    "total_debt": 125000000,
    "overdue_debt": 45000000,
    "credit_limit": 300000000,
    "invoices": [
        {"invoice_no": "INV-001", "due": "2025-05-31", "amount": 45000000, "status": "overdue"},
        {"invoice_no": "INV-002", "due": "2025-07-15", "amount": 80000000, "status": "open"},
    ],
}
SEED_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "null"},
    "card": {
        "type": "object",
        "required": ["title", "fields"],
        "properties": {
            "title": {"type": "string"},
            "subtitle": {"type": "string"},
            "fields": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["label", "value"],
                    "properties": {
                        "label": {"type": "string"},
                        "value": {"type": ["string", "number"]},
                    },
                },
            },
        },
    },
    "table": {
        "type": "object",
        "required": ["columns", "rows"],
        "properties": {
            "columns": {"type": "array", "items": {"type": "string"}},
            "rows": {
                "type": "array",
                "items": {"type": "array", "items": {"type": ["string", "number", "null"]}},
            },
        },
    },
    "list": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": {"type": "string"}}},
    },
    "chart": {
        "type": "object",
        "required": ["kind", "labels", "series"],
        "properties": {
            "kind": {"enum": ["bar", "line", "pie"]},
            "labels": {"type": "array", "items": {"type": "string"}},
            "series": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "values"],
                    "properties": {
                        "name": {"type": "string"},
                        "values": {"type": "array", "items": {"type": "number"}},
                    },
                },
            },
        },
    },
}


class HandoffArgs(BaseModel):
    reason: str = Field(default="", description="Why this agent fits the user's request")


def handoff(name: str, description: str) -> BaseTool:
    """A handoff tool worded the way the turn graph words them."""
    return StructuredTool.from_function(
        lambda reason="": "",
        name=f"transfer_to_{name}",
        description=f"Hand the request to the {name.title()} agent: {description}",
        args_schema=HandoffArgs,
    )


AGENTS = [
    handoff("debt", "Customer debt and receivables from the ERP, by MST (tax code)"),
    handoff("shipment", "Shipment tracking from the logistics system, by tracking id"),
]


def business_tool(
    name: str, description: str, schema: dict[str, Any], result: Any = None
) -> BaseTool:
    def run(**kwargs: Any) -> str:
        return json.dumps(result if result is not None else kwargs)

    return StructuredTool.from_function(
        func=run, name=name, description=description, args_schema=schema
    )


DEBT_TOOL = business_tool(
    "get_customer_debt_by_mst", "Customer debt and invoices from the ERP", MST_SCHEMA, DEBT_RESULT
)
SHIPMENT_TOOL = business_tool(
    "track_shipment", "Track a shipment in the logistics system", SHIPMENT_SCHEMA
)


def format_section(name: str) -> str:
    schema = json.dumps(SEED_SCHEMAS[name], separators=(",", ":"))
    return (
        f"## Output format: {name}\nRenderer hint: {name}\n"
        'Reply with one JSON object {"text": "<short answer for the user>", "data": <object '
        "matching the schema below>} and nothing else.\n"
        f"Schema: {schema}"
    )


def agent_system(fmt: str = "card") -> SystemMessage:
    return SystemMessage(f"You answer questions about customer debt.\n\n{format_section(fmt)}")


def supervise(text: str) -> AIMessage:
    reply = (
        OfflineChatModel().bind_tools(AGENTS).invoke([SystemMessage("Route."), HumanMessage(text)])
    )
    assert isinstance(reply, AIMessage)
    return reply


def act(text: str, tools: list[BaseTool], fmt: str = "card") -> AIMessage:
    reply = OfflineChatModel().bind_tools(tools).invoke([agent_system(fmt), HumanMessage(text)])
    assert isinstance(reply, AIMessage)
    return reply


def answer_after(
    result: Any,
    *,
    fmt: str = "card",
    status: str = "success",
    args: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The final answer the model writes once the debt tool returned `result`."""
    call = {
        "name": DEBT_TOOL.name,
        "args": args or {"mst": "0123456789"},
        "id": "call-1",
        "type": "tool_call",
    }
    messages: list[BaseMessage] = [
        agent_system(fmt),
        HumanMessage("Debt for MST 0123456789"),
        AIMessage(content="", tool_calls=[call]),
        ToolMessage(
            content=json.dumps(result) if not isinstance(result, str) else result,
            tool_call_id="call-1",
            name=DEBT_TOOL.name,
            status=status,
        ),
    ]
    reply = OfflineChatModel().bind_tools([DEBT_TOOL]).invoke(messages)
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == []
    answer = json.loads(str(reply.content))
    assert set(answer) == {"text", "data"}
    return answer


def calls_of(reply: AIMessage) -> list[tuple[str, dict[str, Any]]]:
    return [(call["name"], call["args"]) for call in reply.tool_calls]


# ----------------------------------------------------------------------------- supervisor


def test_supervisor_hands_a_debt_question_to_the_debt_agent_with_a_reason() -> None:
    reply = supervise("What is the debt for MST 0123456789?")

    assert [name for name, _ in calls_of(reply)] == ["transfer_to_debt"]
    reason = reply.tool_calls[0]["args"]["reason"]
    assert "debt" in reason
    assert "mst" in reason.lower()


@pytest.mark.parametrize(
    ("message", "agent"),
    [
        ("công nợ của khách hàng 0123456789", "transfer_to_debt"),
        ("how much does 0123456789 owe us?", "transfer_to_debt"),
        ("where is SHP-1001?", "transfer_to_shipment"),
        ("please track my shipment", "transfer_to_shipment"),
    ],
)
def test_supervisor_routes_by_keywords_in_english_and_vietnamese(message: str, agent: str) -> None:
    assert [name for name, _ in calls_of(supervise(message))] == [agent]


def test_supervisor_asks_for_one_handoff_per_intent_in_one_message() -> None:
    reply = supervise("debt for MST 0123456789 and track shipment SHP-1001")

    assert [name for name, _ in calls_of(reply)] == ["transfer_to_debt", "transfer_to_shipment"]
    assert len({call["id"] for call in reply.tool_calls}) == 2


@pytest.mark.parametrize("greeting", ["hi", "Hello!", "xin chào"])
def test_supervisor_answers_a_greeting_itself_and_says_what_it_can_do(greeting: str) -> None:
    reply = supervise(greeting)

    assert reply.tool_calls == []
    text = str(reply.content)
    assert text.startswith(OFFLINE_MARKER)
    assert "Hello" in text
    assert "Customer debt and receivables" in text


def test_supervisor_lists_every_agent_when_asked_for_help() -> None:
    reply = supervise("what can you do?")

    assert reply.tool_calls == []
    text = str(reply.content)
    assert "- debt: Customer debt and receivables from the ERP, by MST (tax code)" in text
    assert "- shipment: Shipment tracking from the logistics system, by tracking id" in text


def test_supervisor_declines_an_out_of_scope_request_and_lists_what_it_can_do() -> None:
    reply = supervise("What will the weather be like tomorrow?")

    assert reply.tool_calls == []
    text = str(reply.content)
    assert text.startswith(OFFLINE_MARKER + "Sorry, I cannot help with that.")
    assert "- debt:" in text
    assert "- shipment:" in text


def test_supervisor_does_not_route_again_after_a_handoff_result() -> None:
    # GIVEN the graph sent the handoff's tool message back to the supervisor
    handoff_call = {"name": "transfer_to_debt", "args": {}, "id": "h1", "type": "tool_call"}
    messages: list[BaseMessage] = [
        SystemMessage("Route."),
        HumanMessage("debt for MST 0123456789"),
        AIMessage(content="", tool_calls=[handoff_call]),
        ToolMessage(content="Transferred to debt", tool_call_id="h1", name="transfer_to_debt"),
    ]

    # WHEN the supervisor model runs again
    reply = OfflineChatModel().bind_tools(AGENTS).invoke(messages)

    # THEN it stops with a brief text instead of handing off a second time
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == []
    assert reply.content == OFFLINE_MARKER + "Handed over to the debt agent."


def test_supervisor_reports_a_failed_handoff_without_retrying_it() -> None:
    handoff_call = {"name": "transfer_to_debt", "args": {}, "id": "h1", "type": "tool_call"}
    messages: list[BaseMessage] = [
        HumanMessage("debt for MST 0123456789"),
        AIMessage(content="", tool_calls=[handoff_call]),
        ToolMessage(content="Error", tool_call_id="h1", name="transfer_to_debt", status="error"),
    ]

    reply = OfflineChatModel().bind_tools(AGENTS).invoke(messages)

    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == []
    assert "could not hand your request over to the debt agent" in str(reply.content)


# ----------------------------------------------------------------------------- tools, arguments


@pytest.mark.parametrize(
    ("message", "mst"),
    [
        ("Debt for MST 0123456789", "0123456789"),
        ("debt of 0123456789-001, please.", "0123456789-001"),
        ("Công nợ MST: 0123456789?", "0123456789"),
    ],
)
def test_agent_fills_a_pattern_argument_from_the_matching_token(message: str, mst: str) -> None:
    reply = act(message, [DEBT_TOOL])

    assert calls_of(reply) == [("get_customer_debt_by_mst", {"mst": mst})]
    assert reply.content == ""


@pytest.mark.parametrize(
    "message", ["Debt for MST 12345", "Debt for MST 012345678901", "What is my debt?"]
)
def test_agent_asks_for_a_valid_value_instead_of_calling_the_tool(message: str) -> None:
    reply = act(message, [DEBT_TOOL])

    assert reply.tool_calls == []
    answer = json.loads(str(reply.content))
    assert answer == {
        "text": OFFLINE_MARKER + "Please provide a valid Vietnamese tax code (MST): 10 digits or "
        "10-3 digits (e.g. 0123456789).",
        "data": None,
    }


def test_agent_picks_the_tool_whose_pattern_and_words_match_the_message() -> None:
    tools = [DEBT_TOOL, SHIPMENT_TOOL]

    assert calls_of(act("where is SHP-20931 now?", tools)) == [
        ("track_shipment", {"tracking_id": "SHP-20931"})
    ]
    assert calls_of(act("debt for 0123456789", tools)) == [
        ("get_customer_debt_by_mst", {"mst": "0123456789"})
    ]


def test_agent_with_several_tools_and_no_clue_says_what_it_can_do() -> None:
    reply = act("good morning", [DEBT_TOOL, SHIPMENT_TOOL])

    assert reply.tool_calls == []
    text = json.loads(str(reply.content))["text"]
    assert "Customer debt and invoices from the ERP" in text
    assert "Track a shipment in the logistics system" in text


REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["bar", "line", "pie"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 90, "description": "Days back"},
        "include_paid": {"type": "boolean"},
        "region": {"type": "string"},
    },
    "required": ["kind", "days"],
}
REPORT_TOOL = business_tool("sales_report", "Sales report chart", REPORT_SCHEMA)


def test_agent_fills_enum_integer_boolean_and_named_string_arguments() -> None:
    reply = act(
        'sales report as a pie chart for the last 30 days, region "Ha Noi", yes', [REPORT_TOOL]
    )

    assert calls_of(reply) == [
        ("sales_report", {"kind": "pie", "days": 30, "include_paid": True, "region": "Ha Noi"})
    ]


def test_agent_fills_a_string_from_the_text_after_its_name() -> None:
    reply = act("sales report line chart, 7 days, region Da Nang", [REPORT_TOOL])

    assert calls_of(reply) == [("sales_report", {"kind": "line", "days": 7, "region": "Da Nang"})]


def test_agent_asks_when_an_integer_is_out_of_bounds() -> None:
    reply = act("sales report bar chart for the last 500 days", [REPORT_TOOL])

    assert reply.tool_calls == []
    text = json.loads(str(reply.content))["text"]
    assert text == OFFLINE_MARKER + "Please provide a valid Days back (e.g. 1)."


def test_agent_asks_for_a_missing_enum_value_listing_the_options() -> None:
    reply = act("sales report for 30 days", [REPORT_TOOL])

    assert reply.tool_calls == []
    text = json.loads(str(reply.content))["text"]
    assert "a valid kind (e.g. one of: bar, line, pie)" in text


def test_agent_reads_optional_integers_with_bounds_from_pydantic_schemas() -> None:
    class InvoiceQuery(BaseModel):
        mst: str = Field(pattern=r"^[0-9]{10}$", description="Tax code")
        limit: int | None = Field(default=None, ge=1, le=50, description="How many invoices")

    tool = StructuredTool.from_function(
        func=lambda **kwargs: "{}",
        name="list_invoices",
        description="Invoices of a customer",
        args_schema=InvoiceQuery,
    )

    assert calls_of(act("last 5 invoices of 0123456789", [tool])) == [
        ("list_invoices", {"mst": "0123456789", "limit": 5})
    ]
    assert calls_of(act("invoices of 0123456789", [tool])) == [
        ("list_invoices", {"mst": "0123456789"})
    ]


def test_agent_collects_every_match_for_an_array_of_patterned_strings() -> None:
    schema = {
        "type": "object",
        "properties": {
            "tracking_ids": {
                "type": "array",
                "items": {"type": "string", "pattern": "^SHP-\\d{4}$"},
            }
        },
        "required": ["tracking_ids"],
    }
    tool = business_tool("track_many", "Track shipments", schema)

    reply = act("track SHP-1001, SHP-1002 and SHP-1003", [tool])

    assert calls_of(reply) == [
        ("track_many", {"tracking_ids": ["SHP-1001", "SHP-1002", "SHP-1003"]})
    ]


def test_agent_without_tools_answers_in_its_output_format() -> None:
    reply = OfflineChatModel().invoke([agent_system("card"), HumanMessage("anything")])

    assert json.loads(str(reply.content)) == {
        "text": OFFLINE_MARKER + "I have no tools to answer this request.",
        "data": None,
    }


# ----------------------------------------------------------------------------- answers


def test_card_answer_from_the_scalar_fields_of_the_result() -> None:
    answer = answer_after(DEBT_RESULT, fmt="card")

    assert answer["data"]["title"] == "Công ty TNHH An Phát"
    fields = {f["label"]: f["value"] for f in answer["data"]["fields"]}
    assert fields["MST"] == "0123456789"
    assert fields["Total debt"] == 125000000
    assert fields["Invoices"] == 2
    assert answer["text"].startswith(OFFLINE_MARKER + "Công ty TNHH An Phát: ")
    assert "Total debt: 125,000,000 VND" in answer["text"]


def test_table_answer_from_the_first_list_of_objects() -> None:
    answer = answer_after(DEBT_RESULT, fmt="table")

    assert answer["data"] == {
        "columns": ["Invoice no.", "Due", "Amount", "Status"],
        "rows": [
            ["INV-001", "2025-05-31", 45000000, "overdue"],
            ["INV-002", "2025-07-15", 80000000, "open"],
        ],
    }


def test_table_answer_without_a_list_shows_field_value_rows() -> None:
    answer = answer_after({"tracking_id": "SHP-1001", "status": "delivered"}, fmt="table")

    assert answer["data"] == {
        "columns": ["Field", "Value"],
        "rows": [["Tracking ID", "SHP-1001"], ["Status", "delivered"]],
    }


def test_list_answer_has_one_item_per_listed_object() -> None:
    answer = answer_after(DEBT_RESULT, fmt="list")

    assert answer["data"]["items"] == [
        "INV-001: due 2025-05-31, amount 45,000,000, status overdue",
        "INV-002: due 2025-07-15, amount 80,000,000, status open",
    ]


def test_chart_answer_from_the_numeric_fields() -> None:
    answer = answer_after(DEBT_RESULT, fmt="chart")

    assert answer["data"] == {
        "kind": "bar",
        "labels": ["INV-001", "INV-002"],
        "series": [{"name": "Amount", "values": [45000000, 80000000]}],
    }


def test_chart_answer_from_scalar_numbers_when_there_is_no_list() -> None:
    answer = answer_after({"name": "Q2", "revenue": 10, "cost": 4}, fmt="chart")

    assert answer["data"] == {
        "kind": "bar",
        "labels": ["Revenue", "Cost"],
        "series": [{"name": "Q2", "values": [10, 4]}],
    }


def test_text_answer_has_no_data() -> None:
    answer = answer_after(DEBT_RESULT, fmt="text")

    assert answer["data"] is None
    assert "Overdue debt: 45,000,000 VND" in answer["text"]


@pytest.mark.parametrize("fmt", ["card", "table", "list", "chart"])
def test_every_seed_format_answer_matches_its_schema(fmt: str) -> None:
    from jsonschema import Draft202012Validator

    answer = answer_after(DEBT_RESULT, fmt=fmt)

    assert list(Draft202012Validator(SEED_SCHEMAS[fmt]).iter_errors(answer["data"])) == []


def test_a_404_result_is_explained_with_what_was_not_found() -> None:
    error = {
        "error": {
            "type": "http_status",
            "status": 404,
            "message": "Not Found",
            "detail": "customer not found",
        }
    }

    answer = answer_after(error, status="error")

    assert answer == {
        "text": OFFLINE_MARKER + "I could not find a customer with MST 0123456789 "
        "(the ERP answered 404: customer not found).",
        "data": None,
    }


def test_a_timeout_is_explained_as_the_system_being_unavailable() -> None:
    answer = answer_after({"error": {"type": "timeout", "message": "timed out"}}, status="error")

    assert answer["data"] is None
    assert answer["text"] == (
        OFFLINE_MARKER + "The ERP is unavailable right now: it did not answer in time. "
        "Please try again later."
    )


def test_a_5xx_is_explained_as_the_system_being_unavailable() -> None:
    error = {"error": {"type": "http_status", "status": 503, "detail": "maintenance"}}

    answer = answer_after(error, status="error")

    assert answer["text"] == (
        OFFLINE_MARKER + "The ERP is unavailable right now (the ERP answered 503: maintenance); "
        "please try again later."
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            {"type": "http_status", "status": 403, "detail": "forbidden"},
            "I am not allowed to get this from the ERP (the ERP answered 403: forbidden).",
        ),
        (
            {"type": "http_status", "status": 429},
            "The ERP is busy right now (the ERP answered 429); please try again in a moment.",
        ),
        (
            {"type": "http_status", "status": 422, "detail": "bad mst"},
            "The ERP rejected the request (the ERP answered 422: bad mst).",
        ),
        (
            {"type": "connection", "message": "connection refused"},
            "The ERP is unavailable right now (it could not be reached); please try again later.",
        ),
    ],
)
def test_other_tool_errors_are_explained_in_plain_words(
    error: dict[str, Any], expected: str
) -> None:
    answer = answer_after({"error": error}, status="error")

    assert answer == {"text": OFFLINE_MARKER + expected, "data": None}


def test_a_tool_crash_without_structured_error_gets_a_plain_apology() -> None:
    answer = answer_after("Error: boom", status="error")

    assert answer == {
        "text": OFFLINE_MARKER
        + "The get customer debt by MST tool failed, so I cannot answer right now.",
        "data": None,
    }


def test_a_tenant_format_gets_the_first_shape_that_fits_its_schema() -> None:
    custom = {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": {"type": "string"}}},
    }
    section = (
        "## Output format: bullets\nRenderer hint: bullets\nReply with one JSON object.\n"
        f"Schema: {json.dumps(custom)}"
    )
    call = {"name": DEBT_TOOL.name, "args": {"mst": "0123456789"}, "id": "c", "type": "tool_call"}
    reply = (
        OfflineChatModel()
        .bind_tools([DEBT_TOOL])
        .invoke(
            [
                SystemMessage(section),
                HumanMessage("debt 0123456789"),
                AIMessage(content="", tool_calls=[call]),
                ToolMessage(content=json.dumps(DEBT_RESULT), tool_call_id="c", name=DEBT_TOOL.name),
            ]
        )
    )

    data = json.loads(str(reply.content))["data"]
    assert data["items"][0].startswith("INV-001")


# ----------------------------------------------------------------------------- marker and usage


@pytest.mark.parametrize(
    "final_text",
    [
        lambda: str(supervise("hello").content),
        lambda: str(supervise("what can you do").content),
        lambda: str(supervise("sing me a song").content),
        lambda: json.loads(str(act("Debt for MST 12345", [DEBT_TOOL]).content))["text"],
        lambda: answer_after(DEBT_RESULT, fmt="card")["text"],
        lambda: answer_after(DEBT_RESULT, fmt="text")["text"],
        lambda: answer_after({"error": {"type": "timeout"}}, status="error")["text"],
    ],
)
def test_every_final_answer_says_it_came_from_the_offline_model(final_text: Any) -> None:
    assert final_text().startswith(OFFLINE_MARKER)


def test_usage_metadata_counts_about_four_characters_a_token() -> None:
    messages: list[BaseMessage] = [SystemMessage("x" * 40), HumanMessage("hi" * 30)]

    reply = OfflineChatModel().invoke(messages)

    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == 25  # 100 characters
    assert reply.usage_metadata["output_tokens"] == math.ceil(len(str(reply.content)) / 4)
    assert reply.usage_metadata["total_tokens"] == 25 + reply.usage_metadata["output_tokens"]
    assert reply.response_metadata["model_name"] == "offline"
    assert reply.response_metadata["model_provider"] == "offline"


def test_usage_metadata_is_at_least_one_token_each_way() -> None:
    reply = act("0123456789", [DEBT_TOOL])

    assert reply.content == ""
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["output_tokens"] >= 1
    empty = OfflineChatModel().invoke([HumanMessage("")])
    assert empty.usage_metadata is not None
    assert empty.usage_metadata["input_tokens"] == 1


def test_the_same_messages_give_the_same_reply() -> None:
    first = supervise("debt for MST 0123456789 and track shipment SHP-1001")
    second = supervise("debt for MST 0123456789 and track shipment SHP-1001")

    assert first.tool_calls == second.tool_calls


# ----------------------------------------------------------------------------- inside create_agent


def test_create_agent_calls_the_tool_with_the_mst_and_answers_in_json() -> None:
    seen: list[dict[str, Any]] = []

    def get_debt(mst: str) -> str:
        seen.append({"mst": mst})
        return json.dumps(DEBT_RESULT)

    tool = StructuredTool.from_function(
        func=get_debt,
        name="get_customer_debt_by_mst",
        description="Customer debt and invoices from the ERP",
        args_schema=MST_SCHEMA,
    )
    agent = create_agent(
        model=OfflineChatModel(),
        tools=[tool],
        system_prompt=f"You are the debt agent.\n\n{format_section('card')}",
    )

    out = agent.invoke({"messages": [HumanMessage("Debt for MST 0123456789")]})

    assert seen == [{"mst": "0123456789"}]
    messages = out["messages"]
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    answer = json.loads(messages[-1].content)
    assert answer["text"].startswith(OFFLINE_MARKER + "Công ty TNHH An Phát")
    assert answer["data"]["title"] == "Công ty TNHH An Phát"


def test_create_agent_with_a_malformed_mst_asks_for_a_valid_one_without_calling_the_tool() -> None:
    calls: list[str] = []

    def get_debt(mst: str) -> str:
        calls.append(mst)
        return "{}"

    tool = StructuredTool.from_function(
        func=get_debt,
        name="get_customer_debt_by_mst",
        description="Customer debt and invoices from the ERP",
        args_schema=MST_SCHEMA,
    )
    agent = create_agent(
        model=OfflineChatModel(),
        tools=[tool],
        system_prompt=f"You are the debt agent.\n\n{format_section('card')}",
    )

    out = agent.invoke({"messages": [HumanMessage("Debt for MST 12345")]})

    assert calls == []
    assert [type(m).__name__ for m in out["messages"]] == ["HumanMessage", "AIMessage"]
    answer = json.loads(out["messages"][-1].content)
    assert answer["data"] is None
    assert "Please provide a valid Vietnamese tax code (MST)" in answer["text"]
