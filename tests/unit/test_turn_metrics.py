"""A chat turn's EMF metrics: the tenant is a property of the log line, never a dimension."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from agenthub.services.chat import ChatAnswer
from agenthub.services.metrics import record_turn


def _answer() -> ChatAnswer:
    return ChatAnswer(
        session_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        agent="debt",
        format="card",
        renderer_hint="card",
        data=None,
        text="ok",
        input_tokens=120,
        output_tokens=30,
        cost_usd=Decimal("0.0021"),
        latency_ms=840,
        routing={"agent": "debt", "reason": "debt question"},
        tool_calls=[
            {"tool": "get_debt", "status": "ok", "latency_ms": 41.5},
            {"tool": "get_debt", "status": "error", "latency_ms": 12},
        ],
        llm_calls=[
            {"model_name": "gpt-4o-mini", "input_tokens": 60, "output_tokens": 10},
            {"model_name": "gpt-4o-mini", "input_tokens": 60, "output_tokens": 20},
        ],
    )


def test_a_turn_writes_one_emf_line_with_the_tenant_as_a_property_not_a_dimension(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "chat")

    record_turn(tenant_id="acme", answer=_answer())

    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]
    assert len(lines) == 1
    emf = lines[0]
    directive = emf["_aws"]["CloudWatchMetrics"][0]
    assert directive["Dimensions"] == [["service"]]
    assert emf["service"] == "chat"
    assert emf["tenant_id"] == "acme"
    assert emf["agent"] == "debt"
    assert emf["tools"] == ["get_debt", "get_debt"]
    assert emf["models"] == ["gpt-4o-mini"]
    names = {m["Name"] for m in directive["Metrics"]}
    # What the admin metrics report per tenant: agent and tool calls, tool latency, LLM cost.
    assert {"agent_calls_total", "tool_calls_total", "tool_latency_ms", "llm_cost_total"} <= names
    assert emf["agent_calls_total"] == [1.0]
    assert emf["tool_calls_total"] == [2.0]
    assert emf["tool_errors_total"] == [1.0]
    assert emf["tool_latency_ms"] == [41.5, 12.0]
    assert emf["llm_calls_total"] == [2.0]
    assert emf["llm_cost_total"] == [0.0021]
