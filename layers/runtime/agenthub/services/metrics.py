"""Usage metrics of a chat turn as CloudWatch EMF (Powertools Metrics), per tenant."""

from __future__ import annotations

import os

from agenthub.services.chat import ChatAnswer


def record_turn(*, tenant_id: str, answer: ChatAnswer) -> None:
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    # One isolated metrics object per turn: concurrent turns (the local gateway serves several
    # at once) must not mix their tenants' dimensions.
    metrics = EphemeralMetrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AgentHub"),
        service=os.environ.get("POWERTOOLS_SERVICE_NAME", "agenthub"),
    )
    metrics.add_dimension("tenant_id", tenant_id)
    metrics.add_metric("agent_calls_total", MetricUnit.Count, 1)
    metrics.add_metric("tool_calls_total", MetricUnit.Count, len(answer.tool_calls))
    errors = sum(1 for c in answer.tool_calls if c.get("status") == "error")
    metrics.add_metric("tool_errors_total", MetricUnit.Count, errors)
    for call in answer.tool_calls:
        if isinstance(call.get("latency_ms"), int | float):
            metrics.add_metric("tool_latency_ms", MetricUnit.Milliseconds, call["latency_ms"])
    metrics.add_metric("llm_input_tokens", MetricUnit.Count, answer.input_tokens)
    metrics.add_metric("llm_output_tokens", MetricUnit.Count, answer.output_tokens)
    metrics.add_metric("llm_cost_total", MetricUnit.NoUnit, float(answer.cost_usd))
    metrics.add_metric("turn_latency_ms", MetricUnit.Milliseconds, answer.latency_ms)
    metrics.add_metadata("agent", answer.agent)
    metrics.flush_metrics()
