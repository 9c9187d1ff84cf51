"""Usage metrics of a chat turn as CloudWatch EMF (Powertools Metrics).

`tenant_id` (and the agent, tools and models) are EMF *properties*, not dimensions: each distinct
dimension value is a separate custom metric, so a dimension per tenant would multiply the metric
bill by the number of tenants. The metrics themselves keep the function's `service` dimension
only; per-tenant figures come from the same log lines with CloudWatch Logs Insights, e.g.

    filter tenant_id = "acme" | stats sum(llm_cost_total), sum(agent_calls_total),
        avg(tool_latency_ms), sum(tool_calls_total) by bin(1h)

which are the admin API's figures (`GET /api/admin/metrics`: agent and tool calls, tool
latency, LLM cost; the cache hit rate is in the Redis counters it reads).
"""

from __future__ import annotations

import os
from typing import Any

from agenthub.services.chat import ChatAnswer


def turn_metrics(*, tenant_id: str, answer: ChatAnswer) -> Any:
    """The turn's EMF document, not yet written (`flush_metrics` prints it)."""
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    # One isolated metrics object per turn: concurrent turns (the local gateway serves several
    # at once) must not mix their tenants' figures.
    metrics = EphemeralMetrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AgentHub"),
        service=os.environ.get("POWERTOOLS_SERVICE_NAME", "agenthub"),
    )
    metrics.add_metric("agent_calls_total", MetricUnit.Count, 1)
    metrics.add_metric("tool_calls_total", MetricUnit.Count, len(answer.tool_calls))
    errors = sum(1 for c in answer.tool_calls if c.get("status") == "error")
    metrics.add_metric("tool_errors_total", MetricUnit.Count, errors)
    for call in answer.tool_calls:
        if isinstance(call.get("latency_ms"), int | float):
            metrics.add_metric("tool_latency_ms", MetricUnit.Milliseconds, call["latency_ms"])
    metrics.add_metric("llm_calls_total", MetricUnit.Count, len(answer.llm_calls))
    metrics.add_metric("llm_input_tokens", MetricUnit.Count, answer.input_tokens)
    metrics.add_metric("llm_output_tokens", MetricUnit.Count, answer.output_tokens)
    metrics.add_metric("llm_cost_total", MetricUnit.NoUnit, float(answer.cost_usd))
    metrics.add_metric("turn_latency_ms", MetricUnit.Milliseconds, answer.latency_ms)
    metrics.add_metadata("tenant_id", tenant_id)
    metrics.add_metadata("agent", answer.agent)
    tools = [str(c.get("tool") or c.get("tool_name") or "") for c in answer.tool_calls]
    metrics.add_metadata("tools", [t for t in tools if t])
    models = sorted({str(c.get("model_name")) for c in answer.llm_calls if c.get("model_name")})
    metrics.add_metadata("models", models)
    return metrics


def record_turn(*, tenant_id: str, answer: ChatAnswer) -> None:
    turn_metrics(tenant_id=tenant_id, answer=answer).flush_metrics()
