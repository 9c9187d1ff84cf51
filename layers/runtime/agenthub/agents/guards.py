"""What a turn does when the model answers something unusable.

A model may send a tool call whose arguments are not JSON, call a tool (or a handoff) that does
not exist, or answer with nothing at all. Each of these goes back to the model as an error it
can correct - a tool result for a bad call, a short user-side note for an empty reply - at most
`MAX_CORRECTIONS` times per agent run; after that the run ends with a failure reason, and the
graph answers the user that the request could not be completed (never an empty answer).

`CorrectionMiddleware` (agents/correction.py) does this for the domain agents (`create_agent`),
around their model calls; the supervisor is a single model step of our own and uses
`reply_problem` directly (without loading langchain's agent machinery).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from agenthub.agents.output import message_text

MAX_CORRECTIONS = 2
# Agent state key: why the run gave up (set only when it did).
FAILURE_KEY = "agenthub_failure"
EMPTY_REPLY_NOTE = (
    "Your last reply was empty. Answer the user's last message, or call one of your tools."
)
COULD_NOT_COMPLETE = (
    "Sorry, I could not complete this request: the assistant's model did not produce a usable "
    "answer. Please try again, or rephrase your request."
)


@dataclass(frozen=True)
class ReplyProblem:
    """Why a reply cannot be used, and the messages that tell the model so."""

    reason: str
    corrections: tuple[AnyMessage, ...]
    # The reply also holds calls that can run: the loop goes on without an explicit jump.
    has_runnable_calls: bool = False


def _tool_error(call_id: str, name: str, error_type: str, message: str) -> ToolMessage:
    # Here, not at the top: a turn the supervisor answers never loads the tools' machinery.
    from agenthub.tools.base import compact_json

    content = compact_json({"error": {"type": error_type, "status": None, "message": message}})
    return ToolMessage(content=content, tool_call_id=call_id, name=name, status="error")


def reply_problem(reply: AIMessage, known_tools: Collection[str]) -> ReplyProblem | None:
    """None when the reply is usable: valid calls of known tools, or a non-empty answer."""
    corrections: list[AnyMessage] = []
    reasons: list[str] = []
    for bad in reply.invalid_tool_calls:
        name = bad.get("name") or "unknown"
        corrections.append(
            _tool_error(
                bad.get("id") or f"invalid_{len(corrections)}",
                name,
                "bad_arguments",
                f"the arguments of this call to {name} are not a valid JSON object: "
                "send the call again with JSON arguments that match the tool's schema",
            )
        )
        reasons.append(f"malformed arguments for {name}")
    runnable = False
    for call in reply.tool_calls:
        if call["name"] in known_tools:
            runnable = True
            continue
        offered = ", ".join(sorted(known_tools)) or "(none)"
        corrections.append(
            _tool_error(
                call["id"] or f"unknown_{len(corrections)}",
                call["name"],
                "unknown_tool",
                f"there is no tool named {call['name']}; the available tools are: {offered}",
            )
        )
        reasons.append(f"unknown tool {call['name']}")
    if corrections:
        return ReplyProblem("; ".join(reasons), tuple(corrections), has_runnable_calls=runnable)
    if not reply.tool_calls and not message_text(reply.content).strip():
        return ReplyProblem("empty reply", (HumanMessage(EMPTY_REPLY_NOTE, name="agenthub"),))
    return None
