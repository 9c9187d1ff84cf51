"""Turn a tool result into the offline model's final answer: short text plus format-shaped data.

Builders for the seed formats (card, table, list, chart; text has no data). For a tenant's own
format the first candidate that validates against the format's schema wins, else no data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from agenthub.llm.offline_text import humanize, humanize_inline

OFFLINE_MARKER = "[offline model] "

_TITLE_KEYS = ("customer_name", "name", "title", "tracking_id", "display_name", "label", "id")
_LABEL_KEYS = ("label", "name", "month", "period", "date", "day", "week", "year", "category")
_TIME_KEYS = re.compile(r"date|month|period|day|week|year|time")
_MONEY_KEYS = re.compile(r"debt|amount|total|balance|price|cost|revenue|limit|paid|due_amount")
_SYSTEMS = re.compile(
    r"\b(ERP|CRM|WMS|TMS|OCR service|knowledge base|database|logistics system)\b", re.IGNORECASE
)
_NOT_FOUND = re.compile(r"^\s*(?:the\s+)?([a-z][a-z ]{0,30}?)\s+(?:was\s+|is\s+)?not found", re.I)
_MAX_TEXT_PARTS = 6
_MAX_ROWS_IN_TEXT = 3

Scalar = str | int | float | bool


def marked(text: str) -> str:
    """Every answer the offline model writes says where it came from."""
    return text if text.startswith(OFFLINE_MARKER) else OFFLINE_MARKER + text


def json_answer(text: str, data: Any) -> str:
    return json.dumps({"text": marked(text), "data": data}, ensure_ascii=False, default=str)


def parse_result(content: str) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content


def error_of(result: Any) -> dict[str, Any] | None:
    if isinstance(result, dict) and isinstance(result.get("error"), dict):
        return dict(result["error"])
    return None


def answer_from_result(
    result: Any, *, format_name: str, schema: dict[str, Any] | None
) -> tuple[str, Any]:
    """(text, data) for a successful tool result."""
    if _is_knowledge(result):
        return knowledge_summary(result), None
    return summary(result), shape_data(result, format_name=format_name, schema=schema)


_KNOWLEDGE_QUOTE_CHARS = 600


def _is_knowledge(result: Any) -> bool:
    """A RAG tool's result: `{"knowledge_base", "results": [{document_id, title, text}]}`."""
    return (
        isinstance(result, dict)
        and isinstance(result.get("knowledge_base"), str)
        and isinstance(result.get("results"), list)
    )


def knowledge_summary(result: dict[str, Any]) -> str:
    """Answer from the best chunk, naming its document (the citations list them all)."""
    results = [r for r in result["results"] if isinstance(r, dict) and r.get("text")]
    if not results:
        return "I found nothing about this in our knowledge base."
    best = results[0]
    quote = " ".join(str(best["text"]).split())
    if len(quote) > _KNOWLEDGE_QUOTE_CHARS:
        quote = quote[: _KNOWLEDGE_QUOTE_CHARS - 1].rstrip() + "…"
    others = sorted({str(r.get("title")) for r in results[1:]} - {str(best.get("title"))})
    also = f" (see also: {', '.join(others)})" if others else ""
    return f'According to "{best.get("title") or "our documents"}": {quote}{also}'


def shape_data(result: Any, *, format_name: str, schema: dict[str, Any] | None) -> Any:
    if format_name == "text":
        return None
    named = _BUILDERS.get(format_name)
    if not schema:
        return named(result) if named else None
    # A result may say how it is best shown (a DB_QUERY tool's `presentation`): try that first
    # when the format allows several (e.g. `table_or_chart`).
    hint = result.get("presentation") if isinstance(result, dict) else None
    preferred = _BUILDERS.get(hint) if isinstance(hint, str) else None
    candidates: list[Callable[[Any], Any]] = [preferred] if preferred else []
    candidates += [named] if named else []
    candidates += [b for name, b in _BUILDERS.items() if name != format_name]
    candidates.append(lambda r: r)
    from jsonschema import Draft202012Validator  # only when a tool answered

    validator = Draft202012Validator(schema)
    for build in candidates:
        data = build(result)
        if validator.is_valid(data):
            return data
    return None


def summary(result: Any) -> str:
    if isinstance(result, str):
        return result.strip()[:500] or "The tool returned an empty answer."
    rows = _query_rows(result)
    if rows is not None:
        return _rows_summary(rows)
    record = _record(result)
    title_key = _title_key(record)
    # The currency is shown with the amounts, not on its own.
    parts = [
        f"{humanize(key)}: {_show(key, value, record)}"
        for key, value in record.items()
        if key not in (title_key, "currency")
    ][:_MAX_TEXT_PARTS]
    listed = _first_list(result)
    if listed is not None:
        parts.append(f"{len(listed[1])} {humanize(listed[0]).lower()}")
    head = str(record[title_key]) if title_key else "Result"
    return f"{head}: {'; '.join(parts)}." if parts else f"{head}."


def explain_error(error: dict[str, Any], *, tool_description: str, args: dict[str, Any]) -> str:
    """A clear sentence for a failed tool call (never the raw exception)."""
    kind = str(error.get("type") or "")
    status = error.get("status") if isinstance(error.get("status"), int) else None
    detail = str(error.get("detail") or error.get("message") or "").strip()
    found = _SYSTEMS.search(tool_description)
    name = found.group(1) if found else "business system"
    system = f"the {name.upper() if len(name) <= 3 else name}"
    system_cap = system[0].upper() + system[1:]
    answered = f"{system} answered {status}" + (f": {detail}" if detail else "")
    if status == 404 or kind == "not_found":
        subject = _NOT_FOUND.match(detail)
        what = _with_article(subject.group(1)) if subject else "anything"
        about = _about(args)
        return f"I could not find {what}{about} ({answered if status else detail or system})."
    if status in (401, 403):
        return f"I am not allowed to get this from {system} ({answered})."
    if status == 429:
        return f"{system_cap} is busy right now ({answered}); please try again in a moment."
    if kind == "timeout":
        return (
            f"{system_cap} is unavailable right now: it did not answer in time. "
            "Please try again later."
        )
    if (status is not None and status >= 500) or kind in ("connection", "unavailable"):
        reason = answered if status else "it could not be reached"
        return f"{system_cap} is unavailable right now ({reason}); please try again later."
    if status is not None and status >= 400:
        return f"{system_cap} rejected the request ({answered})."
    return f"I could not get an answer from {system}" + (f": {detail}." if detail else ".")


# ----------------------------------------------------------------------------- data builders


def card(result: Any) -> dict[str, Any]:
    record = _record(result)
    title_key = _title_key(record)
    fields: list[dict[str, Any]] = [
        {"label": humanize(key), "value": _plain(value)}
        for key, value in record.items()
        if key != title_key
    ]
    listed = _first_list(result)
    if listed is not None:
        fields.append({"label": humanize(listed[0]), "value": len(listed[1])})
    return {"title": str(record[title_key]) if title_key else "Result", "fields": fields}


def table(result: Any) -> dict[str, Any]:
    listed = _first_list(result)
    if listed is not None:
        key, rows = listed
        if all(isinstance(row, dict) for row in rows):
            columns = list(dict.fromkeys(k for row in rows for k in row))
            return {
                "columns": [humanize(c) for c in columns],
                "rows": [[_cell(row.get(c)) for c in columns] for row in rows],
            }
        return {"columns": [humanize(key)], "rows": [[_cell(row)] for row in rows]}
    record = _record(result)
    return {
        "columns": ["Field", "Value"],
        "rows": [[humanize(k), _cell(v)] for k, v in record.items()],
    }


def bullet_list(result: Any) -> dict[str, Any]:
    listed = _first_list(result)
    if listed is not None:
        return {"items": [_describe(row) for row in listed[1]]}
    record = _record(result)
    return {"items": [f"{humanize(k)}: {_show(k, v, record)}" for k, v in record.items()]}


def chart(result: Any) -> dict[str, Any]:
    listed = _first_list(result)
    rows = listed[1] if listed is not None else []
    if rows and all(isinstance(row, dict) for row in rows):
        numeric = [k for k in dict.fromkeys(k for r in rows for k in r) if _numeric_column(rows, k)]
        label_key = next((k for k in _LABEL_KEYS if any(k in r for r in rows)), None) or next(
            (k for r in rows for k, v in r.items() if isinstance(v, str)), None
        )
        if numeric:
            labels = [str(r.get(label_key, i + 1)) for i, r in enumerate(rows)]
            series = [
                {"name": humanize(k), "values": [_number(r.get(k)) for r in rows]} for k in numeric
            ]
            kind = "line" if label_key and _TIME_KEYS.search(label_key) else "bar"
            return {"kind": kind, "labels": labels, "series": series}
    record = _record(result)
    numbers = {k: v for k, v in record.items() if _is_number(v)}
    title_key = _title_key(record)
    name = str(record[title_key]) if title_key else "Value"
    return {
        "kind": "bar",
        "labels": [humanize(k) for k in numbers],
        "series": [{"name": name, "values": list(numbers.values())}],
    }


_BUILDERS: dict[str, Callable[[Any], Any]] = {
    "card": card,
    "table": table,
    "list": bullet_list,
    "chart": chart,
}


# ----------------------------------------------------------------------------- helpers


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _record(result: Any) -> dict[str, Scalar]:
    """The scalar fields of a result; one level of nested objects is flattened."""
    if isinstance(result, list):
        if len(result) == 1 and isinstance(result[0], dict):
            return _record(result[0])
        return {"results": len(result)}
    if not isinstance(result, dict):
        return {"result": result} if _is_scalar(result) else {}
    record: dict[str, Scalar] = {}
    for key, value in result.items():
        if _is_scalar(value):
            record[key] = value
        elif isinstance(value, dict):
            record.update({f"{key}_{k}": v for k, v in value.items() if _is_scalar(v)})
    return record


def _first_list(result: Any) -> tuple[str, list[Any]] | None:
    """The result's first list (lists of objects first), with its key."""
    if isinstance(result, list):
        return ("results", result) if len(result) != 1 or not isinstance(result[0], dict) else None
    if not isinstance(result, dict):
        return None
    lists = [(k, v) for k, v in result.items() if isinstance(v, list) and v]
    objects = [(k, v) for k, v in lists if all(isinstance(i, dict) for i in v)]
    chosen = objects or lists
    return chosen[0] if chosen else None


def _title_key(record: dict[str, Scalar]) -> str | None:
    for key in _TITLE_KEYS:
        if isinstance(record.get(key), str):
            return key
    strings = [k for k, v in record.items() if isinstance(v, str)]
    return strings[0] if strings else next(iter(record), None)


def _plain(value: Scalar) -> str | int | float:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _cell(value: Any) -> str | int | float | None:
    if value is None:
        return None
    if _is_scalar(value):
        return _plain(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _number(value: Any) -> int | float:
    return value if _is_number(value) else 0


def _numeric_column(rows: list[dict[str, Any]], key: str) -> bool:
    values = [r[key] for r in rows if r.get(key) is not None]
    return bool(values) and all(_is_number(v) for v in values) and not key.endswith(("_id", "id"))


def _show(key: str, value: Scalar, record: dict[str, Scalar]) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if _is_number(value):
        shown = f"{value:,}"
        currency = record.get("currency")
        if isinstance(currency, str) and _MONEY_KEYS.search(key):
            shown = f"{shown} {currency}"
        return shown
    return str(value)


def _describe(row: Any) -> str:
    if not isinstance(row, dict):
        return str(row)
    record = _record(row)
    title_key = _title_key(record)
    rest = [
        f"{humanize(k).lower()} {_show(k, v, record)}" for k, v in record.items() if k != title_key
    ]
    head = str(record[title_key]) if title_key else ""
    return f"{head}: {', '.join(rest)}" if head and rest else head or ", ".join(rest)


def _query_rows(result: Any) -> list[dict[str, Any]] | None:
    """The rows of a query result (`{"columns": [...], "rows": [{...}]}`), else None."""
    if not isinstance(result, dict) or not isinstance(result.get("columns"), list):
        return None
    rows = result.get("rows")
    if isinstance(rows, list) and all(isinstance(row, dict) for row in rows):
        return rows
    return None


def _rows_summary(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "The query found no rows."
    shown = "; ".join(_describe(row) for row in rows[:_MAX_ROWS_IN_TEXT])
    more = f" (and {len(rows) - _MAX_ROWS_IN_TEXT} more)" if len(rows) > _MAX_ROWS_IN_TEXT else ""
    return f"{len(rows)} row{'s' if len(rows) != 1 else ''}: {shown}{more}."


def _with_article(noun: str) -> str:
    noun = noun.strip()
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _about(args: dict[str, Any]) -> str:
    shown = [(k, v) for k, v in args.items() if _is_scalar(v)]
    if not shown:
        return ""
    key, value = shown[0]
    return f" with {humanize_inline(key)} {value}"
