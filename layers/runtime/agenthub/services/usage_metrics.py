"""Usage metrics over a period, computed with SQL from the stored assistant messages.

Each assistant message is one agent call with its tokens, cost and model; its `tool_calls` JSONB
array holds one entry per tool call (`tool`, `status`, `latency_ms`, `outcome`). A tool call is
an error when its status is "error" or its outcome is anything but "ok".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from agenthub.db.models import Message, MessageRole

GroupBy = Literal["agent", "tool", "model"]


@dataclass(frozen=True)
class UsageFigures:
    """Agent and LLM figures are None where they cannot be split (per tool)."""

    agent_calls_total: int | None
    input_tokens_total: int | None
    output_tokens_total: int | None
    llm_cost_total: Decimal | None
    tool_calls_total: int
    tool_errors_total: int
    tool_avg_latency_ms: float | None


@dataclass(frozen=True)
class UsageGroup:
    key: str | None
    figures: UsageFigures


@dataclass(frozen=True)
class Usage:
    totals: UsageFigures
    groups: list[UsageGroup] | None


@dataclass(frozen=True)
class _Turns:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal("0")


@dataclass(frozen=True)
class _Tools:
    calls: int = 0
    errors: int = 0
    avg_latency_ms: float | None = None


def query_usage(
    db: Session,
    *,
    tenant_id: str | None,
    start: datetime,
    end: datetime,
    group_by: GroupBy | None = None,
) -> Usage:
    """Figures for messages created in [start, end), of one tenant or (None) of all tenants."""
    scope = [
        Message.role == MessageRole.ASSISTANT,
        Message.created_at >= start,
        Message.created_at < end,
    ]
    if tenant_id is not None:
        scope.append(Message.tenant_id == tenant_id)
    total_turns = _turns(db, scope, None).get(None, _Turns())
    total_tools = _tools(db, scope, None).get(None, _Tools())
    totals = _figures(total_turns, total_tools)
    if group_by is None:
        return Usage(totals=totals, groups=None)
    tools = _tools(db, scope, group_by)
    if group_by == "tool":
        groups = [UsageGroup(key, _figures(None, figures)) for key, figures in tools.items()]
    else:
        turns = _turns(db, scope, group_by)
        groups = [
            UsageGroup(key, _figures(turns.get(key, _Turns()), tools.get(key, _Tools())))
            for key in turns.keys() | tools.keys()
        ]
    groups.sort(key=lambda g: (g.key is None, g.key or ""))
    return Usage(totals=totals, groups=groups)


def _figures(turns: _Turns | None, tools: _Tools) -> UsageFigures:
    return UsageFigures(
        agent_calls_total=None if turns is None else turns.calls,
        input_tokens_total=None if turns is None else turns.input_tokens,
        output_tokens_total=None if turns is None else turns.output_tokens,
        llm_cost_total=None if turns is None else turns.cost,
        tool_calls_total=tools.calls,
        tool_errors_total=tools.errors,
        tool_avg_latency_ms=tools.avg_latency_ms,
    )


def _turns(
    db: Session, scope: list[ColumnElement[bool]], group_by: GroupBy | None
) -> dict[str | None, _Turns]:
    figures = (
        func.count(),
        func.coalesce(func.sum(Message.input_tokens), 0),
        func.coalesce(func.sum(Message.output_tokens), 0),
        func.coalesce(func.sum(Message.cost_usd), 0),
    )
    rows = _grouped(db, _message_key(group_by), figures, scope)
    return {
        key: _Turns(
            calls=int(calls),
            input_tokens=int(tokens_in),
            output_tokens=int(tokens_out),
            cost=Decimal(cost),
        )
        for key, calls, tokens_in, tokens_out, cost in rows
        if calls  # an aggregate without GROUP BY returns a row even when nothing matched
    }


def _tools(
    db: Session, scope: list[ColumnElement[bool]], group_by: GroupBy | None
) -> dict[str | None, _Tools]:
    # Each message row times its tool calls (a function in FROM is implicitly LATERAL).
    array = case(
        (func.jsonb_typeof(Message.tool_calls) == "array", Message.tool_calls),
        else_=cast(literal("[]"), JSONB),
    )
    call = func.jsonb_array_elements(array, type_=JSONB).column_valued(
        "call", joins_implicitly=True
    )
    key = (
        func.coalesce(call["tool"].astext, call["tool_name"].astext)
        if group_by == "tool"
        else _message_key(group_by)
    )
    outcome = call["outcome"].astext
    failed = or_(call["status"].astext == "error", and_(outcome.is_not(None), outcome != "ok"))
    latency = call.op("->", return_type=JSONB)(literal("latency_ms"))
    latency_ms = case((func.jsonb_typeof(latency) == "number", latency.astext.cast(Float)))
    figures = (func.count(), func.count().filter(failed), func.avg(latency_ms))
    rows = _grouped(db, key, figures, scope)
    return {
        key: _Tools(
            calls=int(calls),
            errors=int(errors),
            avg_latency_ms=None if latency is None else round(float(latency), 1),
        )
        for key, calls, errors, latency in rows
        if calls
    }


def _grouped(
    db: Session,
    key: ColumnElement[Any] | None,
    figures: tuple[ColumnElement[Any], ...],
    scope: list[ColumnElement[bool]],
) -> list[tuple[Any, ...]]:
    """Rows of (key, *figures): one per key, or a single (None, *figures) row without a key.

    FROM is messages plus whatever the figures refer to (the tool calls of each message).
    """
    if key is None:
        statement = select(*figures).select_from(Message).where(*scope)
        return [(None, *row) for row in db.execute(statement)]
    statement = select(key, *figures).select_from(Message).where(*scope).group_by(key)
    return [tuple(row) for row in db.execute(statement)]


def _message_key(group_by: GroupBy | None) -> ColumnElement[Any] | None:
    if group_by == "agent":
        return Message.agent.expression
    if group_by == "model":
        return Message.llm_model.expression
    return None
