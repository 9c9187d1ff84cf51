"""What a turn produces: each agent's result, the answer, and how the message was routed.

Frozen dataclasses in the turn graph's state (`results`, `answer`, `routing`). The checkpointer
stores the results (`answer` and `routing` are never checkpointed; checkpoints written before may
hold them); `CHECKPOINT_TYPES` lists them for its msgpack allow-list, so reading a checkpoint back
neither warns nor breaks under `LANGGRAPH_STRICT_MSGPACK`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

RoutingStatus = Literal["ok", "partial", "error"]


@dataclass(frozen=True)
class AgentResult:
    """One domain agent's answer to its part of the message."""

    agent: str
    reason: str
    status: Literal["ok", "error"]  # "error": a tool call failed, or the agent gave up
    format: str
    renderer_hint: str
    text: str
    data: Any = None
    # What the agent called: {"tool", "args", "status", and the tool's own metrics}.
    tool_calls: tuple[dict[str, Any], ...] = ()
    fallback_reason: str | None = None  # why a structured format fell back to text
    failure: str | None = None  # why the agent could not answer at all


@dataclass(frozen=True)
class Answer:
    """The answer the user gets (one agent's, or several merged into sections)."""

    agent: str
    format: str
    renderer_hint: str
    text: str
    data: Any = None
    tool_calls: tuple[dict[str, Any], ...] = field(default=())


@dataclass(frozen=True)
class Routing:
    agent: str
    reason: str
    intents: tuple[str, ...] | None = None
    # "error": the request could not be completed (the answer says so); "partial": some of
    # several intents could not.
    status: RoutingStatus = "ok"

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "reason": self.reason,
            "intents": list(self.intents) if self.intents is not None else None,
            "status": self.status,
        }


CHECKPOINT_TYPES = tuple((__name__, cls.__name__) for cls in (AgentResult, Answer, Routing))
