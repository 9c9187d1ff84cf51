"""Answers mapped straight from a tool's JSON result: no model call to restate it.

A card or table agent that called one tool and got a JSON object (card) or a list of objects
(table) back has what the card or table needs. `DirectToolAnswer` maps that result onto the
format (validated against the format's schema) and ends the agent run before the model would be
asked to copy the result into the same shape. That saves one sequential model call per turn: a
single-intent turn is supervisor + one agent call. Anything else (a failed call, several calls,
a result that does not map or validate) goes to the model as usual.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, AnyMessage, ToolMessage

from agenthub.agents.output import ANSWER_TOOL, CheckedAnswer, message_text, schema_errors
from agenthub.domain import OutputFormatSpec

DIRECT_FORMATS = frozenset({"card", "table"})
_TITLE_KEYS = ("name", "title", "customer_name", "display_name")
_SUMMARY_FIELDS = 3
_MAX_ROWS = 200


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _scalar(value: Any) -> bool:
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))


def _title_key(result: dict[str, Any]) -> str | None:
    named = (k for k in result if k in _TITLE_KEYS or k.endswith("_name"))
    return next((k for k in named if isinstance(result[k], str) and result[k].strip()), None)


def card(tool_name: str, result: dict[str, Any]) -> dict[str, Any] | None:
    """`{"text", "data"}` for a card: every scalar of the object as a labelled field."""
    fields = [{"label": _label(k), "value": v} for k, v in result.items() if _scalar(v)]
    if not fields:
        return None
    title_key = _title_key(result)
    title = str(result[title_key]) if title_key else _label(tool_name)
    # The figures first: they are what a card about a record is usually asked for.
    shown = [(k, v) for k, v in result.items() if _scalar(v) and v is not None and k != title_key]
    shown.sort(key=lambda item: not isinstance(item[1], int | float))
    summary = [f"{_label(k)}: {v}" for k, v in shown[:_SUMMARY_FIELDS]]
    return {"text": f"{title} - {'; '.join(summary)}.", "data": {"title": title, "fields": fields}}


def table(tool_name: str, result: Any) -> dict[str, Any] | None:
    """`{"text", "data"}` for a table: a list of flat objects (or an object holding one)."""
    if isinstance(result, dict):
        lists = [v for v in result.values() if isinstance(v, list)]
        if len(lists) != 1:
            return None
        result = lists[0]
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        return None
    columns: list[str] = []
    for row in result:
        columns.extend(k for k, v in row.items() if k not in columns and _scalar(v))
    if not columns:
        return None
    rows = [[row.get(c) for c in columns] for row in result[:_MAX_ROWS]]
    count = len(result)
    text = f"{_label(tool_name)}: {count} row{'s' if count != 1 else ''}."
    return {"text": text, "data": {"columns": [_label(c) for c in columns], "rows": rows}}


def direct_answer(tool_name: str, content: str, fmt: OutputFormatSpec) -> CheckedAnswer | None:
    """The answer the tool's result maps to in `fmt` (validated against its schema), or None
    when it does not map cleanly."""
    try:
        result = json.loads(content)
    except ValueError:
        return None
    if isinstance(result, dict) and "error" in result:
        return None
    if fmt.name == "card" and isinstance(result, dict):
        answer = card(tool_name, result)
    elif fmt.name == "table":
        answer = table(tool_name, result)
    else:
        return None
    if answer is None or (fmt.json_schema and schema_errors(answer["data"], fmt.json_schema)):
        return None
    return CheckedAnswer(text=answer["text"], data=answer["data"])


class DirectToolAnswer(AgentMiddleware[AgentState[Any], Any, Any]):
    """Ends the agent run with the tool's result as the answer when it maps onto the format.

    It answers in place of the model call (`wrap_model_call`), in the model's own graph step: a
    `before_model` hook would be a graph node of its own before every model call of every turn.
    """

    def __init__(self, fmt: OutputFormatSpec) -> None:
        super().__init__()
        self.fmt = fmt

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        answer = self._direct_answer(request.messages)
        if answer is None:
            return handler(request)
        # No message: the agent loop ends on the structured response.
        return ModelResponse(result=[], structured_response=answer)

    def _direct_answer(self, messages: Sequence[AnyMessage]) -> CheckedAnswer | None:
        if len(messages) < 2 or not isinstance(messages[-1], ToolMessage):
            return None
        result, asked = messages[-1], messages[-2]
        if not isinstance(asked, AIMessage) or len(asked.tool_calls) != 1:
            return None
        call = asked.tool_calls[0]
        if (
            call["name"] == ANSWER_TOOL
            or result.status == "error"
            or result.tool_call_id != call["id"]
        ):
            return None
        # Only the first round of tool calls: later rounds mean the model is working something
        # out (e.g. after a correction) and should write the answer itself.
        if sum(1 for m in messages if isinstance(m, AIMessage) and m.tool_calls) != 1:
            return None
        return direct_answer(call["name"], message_text(result.content), self.fmt)
