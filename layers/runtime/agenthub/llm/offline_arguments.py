"""Fill a tool's arguments from the user's message, following the tool's JSON Schema.

A string with a `pattern` takes a token of the message that fully matches it; an enum takes a
value the message names; numbers and booleans take what the message says, within the bounds.
Whatever is required and missing or out of bounds becomes a `Problem`: the model then asks for
it instead of calling the tool.
"""

from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass, field
from typing import Any

from agenthub.llm.offline_text import stem, words

_TOKEN = re.compile(r"\S+")
_EDGE_PUNCTUATION = "\"'`.,;:!?()[]{}<>«»“”‘’"  # noqa: RUF001 - typographic quotes on purpose
_NUMBER = re.compile(r"(?<![\w.\-])-?\d+(?:\.\d+)?(?![\w\-]|\.\d)")
_QUOTED = re.compile(r"\"([^\"]+)\"|'([^']+)'|“([^”]+)”")
_TRUE_WORDS = frozenset({"yes", "true", "có", "đúng"})
_FALSE_WORDS = frozenset({"no", "false", "không", "sai"})
_FREE_TEXT_NAMES = frozenset(
    {"query", "question", "q", "text", "prompt", "message", "search", "search_query", "keywords"}
)
_FORMAT_PATTERNS = {
    "date": r"\d{4}-\d{2}-\d{2}",
    "email": r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}",
}


@dataclass(frozen=True)
class Problem:
    """A required argument the message does not give (or gives out of bounds)."""

    name: str
    description: str
    example: str | None
    missing: bool = False  # not in the message at all (rather than given out of bounds)
    # The message gives a value, but not a valid one (as opposed to giving none).
    invalid: bool = False


@dataclass
class FilledArguments:
    args: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # Arguments found by a pattern: strong evidence that the message is meant for this tool.
    pattern_hits: int = 0


def fill_arguments(parameters: dict[str, Any], message: str) -> FilledArguments:
    properties: dict[str, Any] = parameters.get("properties") or {}
    required = set(parameters.get("required") or ())
    filler = _Filler(message)
    result = FilledArguments()
    # Most specific first: values found by a pattern are not reused as numbers or free text.
    ordered = sorted(properties.items(), key=lambda item: _order(_effective(item[1])))
    numeric_names = [n for n, s in ordered if _effective(s).get("type") in ("integer", "number")]
    for name, raw_schema in ordered:
        schema = _effective(raw_schema)
        value, valid = filler.fill(name, schema, lone_number=len(numeric_names) == 1)
        if valid and value is not None:
            result.args[name] = value
            if _pattern_of(schema):
                result.pattern_hits += 1
        elif name in required or not valid:
            result.problems.append(
                Problem(
                    name=name,
                    description=describe(name, schema),
                    example=example_for(schema),
                    missing=valid and value is None,
                    invalid=not valid,
                )
            )
    return result


def recall_arguments(
    parameters: dict[str, Any], filled: FilledArguments, earlier: list[str]
) -> FilledArguments:
    """Fill what the message leaves out from the user's earlier messages, latest first ("and
    what about its shipments?" after asking about MST 0123456789).

    Only values a pattern recognises (an MST, a tracking id) are carried over: free text or a
    number from another question would be a guess. A value given but invalid is still asked for.
    """
    properties: dict[str, Any] = parameters.get("properties") or {}
    still: list[Problem] = []
    for problem in filled.problems:
        raw = properties.get(problem.name)
        value = None
        if problem.missing and isinstance(raw, dict) and _pattern_of(_effective(raw)):
            alone = {"type": "object", "properties": {problem.name: raw}}
            for text in earlier:
                found = fill_arguments(alone, text).args.get(problem.name)
                if found is not None:
                    value = found
                    break
        if value is None:
            still.append(problem)
        else:
            filled.args[problem.name] = value
    filled.problems = still
    return filled


def describe(name: str, schema: dict[str, Any]) -> str:
    description = str(schema.get("description") or schema.get("title") or "").strip()
    return description.rstrip(".") if description else name.replace("_", " ")


def example_for(schema: dict[str, Any]) -> str | None:
    """An example value to show the user, from the schema itself."""
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return str(examples[0])
    for key in ("example", "default"):
        if schema.get(key) is not None:
            return str(schema[key])
    if schema.get("enum"):
        return "one of: " + ", ".join(str(v) for v in schema["enum"])
    pattern = _pattern_of(schema)
    if pattern:
        return example_from_pattern(pattern)
    if schema.get("type") in ("integer", "number"):
        if "minimum" in schema:
            return str(schema["minimum"])
        if "exclusiveMinimum" in schema:
            return str(math.floor(schema["exclusiveMinimum"]) + 1)
        return "1"
    if schema.get("type") == "boolean":
        return "yes or no"
    return None


def example_from_pattern(pattern: str) -> str | None:
    """The shortest string of a simple regex, digits counting up (`[0-9]{10}` -> 0123456789)."""
    try:
        parser: Any = importlib.import_module("re._parser")  # the stdlib's own regex parser
        example = _Example().render(parser.parse(pattern))
    except Exception:  # unusual syntax: no example rather than a wrong one
        return None
    return example if re.fullmatch(pattern, example) else None


class _Example:
    def __init__(self) -> None:
        self._digit = 0

    def render(self, items: Any) -> str:
        return "".join(self._one(str(op), av) for op, av in items)

    def _one(self, op: str, av: Any) -> str:
        if op == "LITERAL":
            return chr(av)
        if op == "AT":
            return ""
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, items = av
            return "".join(self.render(items) for _ in range(low))
        if op == "SUBPATTERN":
            return self.render(av[-1])
        if op == "ATOMIC_GROUP":
            return self.render(av)
        if op == "BRANCH":
            return self.render(av[1][0])
        if op == "IN":
            return self._choice(av)
        if op == "CATEGORY":
            return self._category(str(av))
        if op == "ANY":
            return "x"
        raise ValueError(f"no example for {op}")

    def _choice(self, members: Any) -> str:
        op, av = members[0]
        op = str(op)
        if op == "LITERAL":
            return chr(av)
        if op == "CATEGORY":
            return self._category(str(av))
        if op == "RANGE":
            low, high = av
            if low <= ord("0") and ord("9") <= high:
                return self._next_digit()
            return chr(low)
        raise ValueError(f"no example for {op}")

    def _category(self, category: str) -> str:
        if category == "CATEGORY_DIGIT":
            return self._next_digit()
        if category == "CATEGORY_WORD":
            return "a"
        if category == "CATEGORY_SPACE":
            return " "
        raise ValueError(f"no example for {category}")

    def _next_digit(self) -> str:
        digit = str(self._digit % 10)
        self._digit += 1
        return digit


def _effective(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, {type: null}]` (pydantic's Optional) -> X, keeping the description."""
    options = schema.get("anyOf") or schema.get("oneOf")
    if not options:
        return schema
    concrete = [o for o in options if isinstance(o, dict) and o.get("type") != "null"]
    if not concrete:
        return schema
    merged = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
    return {**concrete[0], **merged}


def _pattern_of(schema: dict[str, Any]) -> str | None:
    pattern = schema.get("pattern") or _FORMAT_PATTERNS.get(str(schema.get("format")))
    return str(pattern) if pattern else None


def _order(schema: dict[str, Any]) -> int:
    if _pattern_of(schema):
        return 0
    if schema.get("enum"):
        return 1
    if schema.get("type") == "string":
        return 2
    return 3


def _unanchored(pattern: str) -> str:
    core = pattern[1:] if pattern.startswith("^") else pattern
    if core.endswith("$") and not core.endswith("\\$"):
        core = core[:-1]
    return core


class _Filler:
    """Finds values in one message; a span of the message is used by one argument at most."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.used: list[tuple[int, int]] = []

    def fill(self, name: str, schema: dict[str, Any], *, lone_number: bool) -> tuple[Any, bool]:
        """(value or None, whether what the message says is valid)."""
        pattern = _pattern_of(schema)
        kind = schema.get("type")
        if pattern and kind in (None, "string"):
            value = self._by_pattern(pattern)
            fits = value is not None and _length_ok(value, schema)
            return (value if fits else None), True
        if schema.get("enum"):
            return self._by_enum(schema["enum"]), True
        if kind in ("integer", "number"):
            return self._number(name, schema, lone_number=lone_number)
        if kind == "boolean":
            return self._boolean(), True
        if kind == "string":
            value = self._free_text(name)
            return (value, True) if value is None or _length_ok(value, schema) else (None, False)
        if kind == "array":
            items = _effective(schema.get("items") or {})
            item_pattern = _pattern_of(items)
            if item_pattern:
                found = self._all_by_pattern(item_pattern)
                return (found or None), True
        return None, True

    def _free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.used)

    def _take(self, start: int, end: int) -> None:
        self.used.append((start, end))

    def _by_pattern(self, pattern: str) -> str | None:
        found = self._all_by_pattern(pattern, first_only=True)
        return found[0] if found else None

    def _all_by_pattern(self, pattern: str, *, first_only: bool = False) -> list[str]:
        try:
            compiled = re.compile(pattern)
            loose = re.compile(rf"(?<!\w)(?:{_unanchored(pattern)})(?!\w)")
        except re.error:
            return []
        found: list[str] = []
        for token in _TOKEN.finditer(self.message):
            raw = token.group(0)
            stripped = raw.strip(_EDGE_PUNCTUATION)
            if not stripped:
                continue
            start = token.start() + raw.index(stripped)
            end = start + len(stripped)
            if compiled.fullmatch(stripped) and self._free(start, end):
                self._take(start, end)
                found.append(stripped)
                if first_only:
                    return found
        if found:
            return found
        # Patterns that span several words (or sit inside punctuation): search the message.
        for hit in loose.finditer(self.message):
            if hit.group(0) and compiled.fullmatch(hit.group(0)) and self._free(*hit.span()):
                self._take(*hit.span())
                found.append(hit.group(0))
                if first_only:
                    break
        return found

    def _by_enum(self, options: list[Any]) -> Any:
        lowered = self.message.lower()
        best: tuple[int, Any] | None = None
        for option in options:
            spelled = {str(option).lower(), str(option).lower().replace("_", " ")}
            for text in spelled:
                hit = re.search(rf"(?<!\w){re.escape(text)}(?!\w)", lowered)
                if hit and self._free(*hit.span()) and (best is None or hit.start() < best[0]):
                    best = (hit.start(), option)
        return None if best is None else best[1]

    def _number(self, name: str, schema: dict[str, Any], *, lone_number: bool) -> tuple[Any, bool]:
        candidates = [m for m in _NUMBER.finditer(self.message) if self._free(*m.span())]
        if not candidates:
            return None, True
        named = [m for m in candidates if self._names_near(name, schema, m.start(), m.end())]
        if named:
            chosen = named[0]
        elif lone_number:
            chosen = candidates[0]
        else:
            return None, True
        text = chosen.group(0)
        is_integer = re.fullmatch(r"-?\d+", text) is not None
        if schema.get("type") == "integer" and not is_integer:
            return None, False
        value: int | float = int(text) if is_integer else float(text)
        if not _within_bounds(value, schema):
            # A number the user meant for this argument but out of bounds: ask, do not clamp.
            return None, not named
        self._take(*chosen.span())
        return value, True

    def _names_near(self, name: str, schema: dict[str, Any], start: int, end: int) -> bool:
        named = f"{name.replace('_', ' ')} {schema.get('title', '')}"
        wanted = {stem(w) for w in words(named)}
        before = [stem(w) for w in words(self.message[:start])[-3:]]
        after = [stem(w) for w in words(self.message[end:])[:2]]
        return bool(wanted & set(before + after))

    def _boolean(self) -> bool | None:
        for word in words(self.message):
            if word in _TRUE_WORDS:
                return True
            if word in _FALSE_WORDS:
                return False
        return None

    def _free_text(self, name: str) -> str | None:
        for hit in _QUOTED.finditer(self.message):
            if self._free(*hit.span()):
                self._take(*hit.span())
                return next(group for group in hit.groups() if group)
        spoken = r"[\s_]+".join(re.escape(part) for part in name.split("_") if part)
        after_name = re.search(
            rf"(?i)\b{spoken}\b\s*(?:is|=|:)?\s*(?P<value>[^,.;?!]+?)\s*(?:[,.;?!]|\band\b|$)",
            self.message,
        )
        if after_name and self._free(*after_name.span("value")):
            self._take(*after_name.span("value"))
            return after_name.group("value")
        if name.lower() in _FREE_TEXT_NAMES and self.message.strip():
            return self.message.strip()
        return None


def _length_ok(value: str, schema: dict[str, Any]) -> bool:
    return int(schema.get("minLength", 0)) <= len(value) <= int(schema.get("maxLength", 10**9))


def _within_bounds(value: float, schema: dict[str, Any]) -> bool:
    if "minimum" in schema and value < schema["minimum"]:
        return False
    if "maximum" in schema and value > schema["maximum"]:
        return False
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        return False
    return not ("exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"])
