"""Arguments the last message leaves out but the conversation already gave.

"What does this customer owe us?" after an invoice was read: the MST is in the earlier answer.
Only pattern-checked arguments (an MST, a tracking id) are taken from earlier messages, newest
first: a value that fits the pattern is unambiguous, free text from an old message is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agenthub.llm.offline_arguments import FilledArguments, fill_arguments


def fill_from_conversation(
    parameters: dict[str, Any], filled: FilledArguments, messages: Sequence[BaseMessage]
) -> FilledArguments:
    properties: dict[str, Any] = parameters.get("properties") or {}
    missing = {
        p.name
        for p in filled.problems
        if p.name not in filled.args and _has_pattern(properties, p.name)
    }
    if not missing:
        return filled
    earlier = [m for m in messages if isinstance(m, HumanMessage | AIMessage)][:-1]
    args = dict(filled.args)
    for message in reversed(earlier):
        found = fill_arguments(parameters, str(message.text))
        for name in list(missing):
            if name in found.args:
                args[name] = found.args[name]
                missing.discard(name)
        if not missing:
            break
    problems = [p for p in filled.problems if p.name not in args]
    return FilledArguments(args=args, problems=problems, pattern_hits=filled.pattern_hits)


def _has_pattern(properties: dict[str, Any], name: str) -> bool:
    schema = properties.get(name) or {}
    return isinstance(schema, dict) and bool(schema.get("pattern"))
