"""The streamed turn's wire format: SSE framing, event data and the error event (no network)."""

from __future__ import annotations

import json

import sqlalchemy.exc

from agenthub.api.chat_stream import error_event, event_data, sse
from agenthub.errors import LlmProviderError, RateLimitedError
from agenthub.services.chat_stream import RoutingEvent, TokenEvent, ToolEnded


def test_each_event_has_an_id_a_type_and_one_line_of_json() -> None:
    frame = sse(7, "token", {"agent": "debt", "text": "Tổng nợ\nlà"})

    lines = frame.decode().split("\n")
    assert lines[:2] == ["id: 7", "event: token"]
    assert lines[2].startswith("data: ")
    assert json.loads(lines[2].removeprefix("data: ")) == {"agent": "debt", "text": "Tổng nợ\nlà"}
    assert frame.endswith(b"\n\n") and frame.count(b"\n") == 4


def test_routing_lists_intents_only_when_there_are_several() -> None:
    one = event_data(RoutingEvent(agent="debt", reason="a debt question"))
    several = event_data(
        RoutingEvent(
            agent="debt,shipment",
            reason="both",
            intents=({"agent": "debt", "reason": "r1"}, {"agent": "shipment", "reason": "r2"}),
        )
    )

    assert one == {"agent": "debt", "reason": "a debt question"}
    assert several["intents"] == [
        {"agent": "debt", "reason": "r1"},
        {"agent": "shipment", "reason": "r2"},
    ]
    assert event_data(TokenEvent(agent="debt", text="x")) == {"agent": "debt", "text": "x"}
    assert event_data(ToolEnded(tool="t", agent="a", status="error", latency_ms=1.5)) == {
        "tool": "t",
        "agent": "a",
        "status": "error",
        "latency_ms": 1.5,
    }


def test_a_domain_error_keeps_its_status_code_and_message() -> None:
    assert error_event(LlmProviderError("the provider failed"), "req-1") == {
        "error": {
            "code": "llm_provider_error",
            "message": "the provider failed",
            "request_id": "req-1",
        },
        "status": 502,
    }
    assert error_event(RateLimitedError("slow down"), "r")["status"] == 429


def test_an_unexpected_error_says_nothing_of_its_detail() -> None:
    event = error_event(RuntimeError("password=hunter2 at /srv/app.py:12"), "req-2")

    assert event == {
        "error": {"code": "internal_error", "message": "internal error", "request_id": "req-2"},
        "status": 500,
    }


def test_an_unreachable_database_is_a_503() -> None:
    down = sqlalchemy.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError())

    event = error_event(down, "req-3")

    assert (event["status"], event["error"]["code"]) == (503, "service_unavailable")
    assert "database" in event["error"]["message"]
