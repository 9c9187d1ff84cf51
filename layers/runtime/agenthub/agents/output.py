"""Shape an agent's final message by its output format: `format`, `renderer_hint`, `data`, `text`.

Models are asked for one JSON object `{"text": ..., "data": ...}` whose `data` follows the
format's JSON Schema. When the reply does not fit (no JSON, wrong shape, schema violation), the
answer falls back to the `text` format with the reply as text: the user still gets an answer.

A format may offer alternatives: a schema `{"anyOf": [{"title": "chart", ...}, {"title":
"table", ...}]}` answers in the format its data fits first (`format` and `renderer_hint` are that
branch's title, or its `x-renderer-hint`), e.g. the Analysis agent's `table_or_chart`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agenthub.domain import OutputFormatSpec

TEXT_FORMAT = OutputFormatSpec(name="text", renderer_hint="markdown", json_schema={})
# The tool a model calls to answer in a structured format (ToolStrategy).
ANSWER_TOOL = "final_answer"
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


@dataclass(frozen=True)
class ShapedAnswer:
    format: str
    renderer_hint: str
    text: str
    data: Any = None
    # Why the structured form was not used, when it was not (logged by the graph).
    fallback_reason: str | None = None


@dataclass(frozen=True)
class CheckedAnswer:
    """An agent's answer already validated against its format's schema (a tool's result that
    `DirectToolAnswer` mapped onto the format): shaping it does not validate it again."""

    text: str
    data: Any


def format_instructions(fmt: OutputFormatSpec) -> str:
    """The section appended to a domain agent's system prompt."""
    schema = json.dumps(fmt.json_schema or {"type": "null"}, separators=(",", ":"))
    return (
        f"## Output format: {fmt.name}\n"
        f"Renderer hint: {fmt.renderer_hint}\n"
        'Reply with one JSON object {"text": "<short answer for the user>", "data": <object '
        "matching the schema below>} and nothing else.\n"
        f"Schema: {schema}"
    )


@lru_cache(maxsize=64)
def _validator(schema_json: str) -> Any:
    # Imported here: jsonschema costs ~0.1 s of cold start and only structured answers need it.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json))


def schema_errors(data: Any, schema: dict[str, Any]) -> list[Any]:
    """Where `data` breaks `schema` (jsonschema errors, by path); empty when it fits."""
    return sorted(
        _validator(json.dumps(schema, sort_keys=True)).iter_errors(data),
        key=lambda e: list(e.path),
    )


def _extract_json(content: str) -> Any:
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    if not text.startswith("{"):
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise ValueError("no JSON object in the reply")
        text = text[start : end + 1]
    return json.loads(text)


def message_text(content: Any) -> str:
    """A chat message's content as plain text (providers may return content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            block.get("text", "") if isinstance(block, dict) else str(block) for block in content
        ]
        return "".join(parts)
    return str(content)


def is_structured(fmt: OutputFormatSpec) -> bool:
    """Formats with data (card, table, chart...): worth the provider's structured output."""
    return fmt.name != TEXT_FORMAT.name and bool(fmt.json_schema)


def answer_schema(fmt: OutputFormatSpec) -> dict[str, Any]:
    """The JSON Schema of a whole answer in `fmt`, for the provider's structured output."""
    return {
        "title": ANSWER_TOOL,
        "description": f"The answer to the user, as a {fmt.name} ({fmt.description})".strip(),
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "A short answer for the user"},
            "data": fmt.json_schema,
        },
        "required": ["text", "data"],
    }


def shape_answer(content: Any, fmt: OutputFormatSpec) -> ShapedAnswer:
    """Prompt-and-parse: the reply's text should hold the `{"text", "data"}` object."""
    raw = message_text(content).strip()
    try:
        parsed = _extract_json(raw)
    except ValueError:
        return _as_text(raw, "the reply is not a JSON object")
    return shape_structured(parsed, fmt, raw=raw)


def shape_structured(parsed: Any, fmt: OutputFormatSpec, *, raw: str | None = None) -> ShapedAnswer:
    """An answer object (parsed from text, or the provider's structured output), validated
    against the format's schema; what does not fit falls back to text."""
    if isinstance(parsed, CheckedAnswer):
        name, hint = _alternative(fmt, parsed.data) or (fmt.name, fmt.renderer_hint)
        return ShapedAnswer(name, hint, parsed.text.strip(), parsed.data)
    if raw is None:
        raw = json.dumps(parsed, ensure_ascii=False, default=str)
    if not isinstance(parsed, dict) or not isinstance(parsed.get("text"), str):
        return _as_text(raw, 'the reply has no "text" string')
    text = parsed["text"].strip()
    data = parsed.get("data")
    if fmt.name == TEXT_FORMAT.name or data is None:
        reason = None if fmt.name == TEXT_FORMAT.name else "the reply has no data"
        return ShapedAnswer("text", TEXT_FORMAT.renderer_hint, text, None, reason)
    if fmt.json_schema:
        errors = schema_errors(data, fmt.json_schema)
        if errors:
            where = "/".join(str(p) for p in errors[0].path) or "data"
            return ShapedAnswer(
                "text",
                TEXT_FORMAT.renderer_hint,
                text,
                None,
                f"data does not match the {fmt.name} schema at {where}: {errors[0].message}",
            )
    alternative = _alternative(fmt, data)
    if alternative is not None:
        return ShapedAnswer(alternative[0], alternative[1], text, data)
    return ShapedAnswer(fmt.name, fmt.renderer_hint, text, data)


def _alternative(fmt: OutputFormatSpec, data: Any) -> tuple[str, str] | None:
    """(format, renderer hint) of the first titled `anyOf` branch the data fits, if any."""
    branches = (fmt.json_schema or {}).get("anyOf")
    if not isinstance(branches, list):
        return None
    for branch in branches:
        title = branch.get("title") if isinstance(branch, dict) else None
        fits = isinstance(title, str) and title and _validator(_dumps(branch)).is_valid(data)
        if fits:
            return str(title), str(branch.get("x-renderer-hint") or title)
    return None


def _dumps(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True)


def _as_text(raw: str, reason: str) -> ShapedAnswer:
    return ShapedAnswer("text", TEXT_FORMAT.renderer_hint, raw, None, reason)
