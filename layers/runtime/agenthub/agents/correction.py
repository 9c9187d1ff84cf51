"""`CorrectionMiddleware`: a domain agent's unusable replies go back to its model (agents/guards.py
says what counts as unusable and why)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated, Any, NotRequired

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain.agents.middleware.types import OmitFromInput, PrivateStateAttr, hook_config
from langchain.agents.structured_output import StructuredOutputError
from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from agenthub.agents.guards import FAILURE_KEY, MAX_CORRECTIONS, reply_problem


class CorrectionState(AgentState[Any]):
    corrections: NotRequired[Annotated[int, PrivateStateAttr]]
    agenthub_failure: NotRequired[Annotated[str | None, OmitFromInput]]


class CorrectionMiddleware(AgentMiddleware[CorrectionState, Any, Any]):
    """Sends unusable replies back to the model, at most `MAX_CORRECTIONS` times per run."""

    state_schema = CorrectionState

    def __init__(self, known_tools: Collection[str], *, max_corrections: int = MAX_CORRECTIONS):
        super().__init__()
        self.known_tools = frozenset(known_tools)
        self.max_corrections = max_corrections

    @hook_config(can_jump_to=["model", "end"])
    def after_model(self, state: CorrectionState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        reply = next((m for m in reversed(state["messages"]) if isinstance(m, AIMessage)), None)
        if reply is None or state.get("structured_response") is not None:
            return None
        problem = reply_problem(reply, self.known_tools)
        if problem is None:
            return None
        used = state.get("corrections", 0)
        if used >= self.max_corrections:
            return {"jump_to": "end", FAILURE_KEY: problem.reason}
        update: dict[str, Any] = {"messages": list(problem.corrections), "corrections": used + 1}
        if not problem.has_runnable_calls:
            update["jump_to"] = "model"
        return update

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        # Provider structured output that does not parse (prose, broken JSON) is still an
        # answer: keep the reply and let the output shaping fall back to text.
        try:
            return handler(request)
        except StructuredOutputError as exc:
            return ModelResponse(result=[exc.ai_message])
