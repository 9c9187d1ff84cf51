"""`CorrectionMiddleware`: a domain agent's unusable replies go back to its model (agents/guards.py
says what counts as unusable and why).

All of it happens around the model call (`wrap_model_call`), in the model's own graph step: an
`after_model` hook would be a graph node of its own, run after every model call of every turn
(one LangGraph task each) to find nothing wrong almost every time.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated, Any, NotRequired, cast

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain.agents.middleware.types import (
    ExtendedModelResponse,
    ModelCallResult,
    OmitFromInput,
    PrivateStateAttr,
)
from langchain.agents.structured_output import StructuredOutputError
from langchain_core.messages import AIMessage, AnyMessage
from langgraph.types import Command

from agenthub.agents.guards import FAILURE_KEY, MAX_CORRECTIONS, reply_problem


class CorrectionState(AgentState[Any]):
    corrections: NotRequired[Annotated[int, PrivateStateAttr]]
    agenthub_failure: NotRequired[Annotated[str | None, OmitFromInput]]


class CorrectionMiddleware(AgentMiddleware[CorrectionState, Any, Any]):
    """Sends unusable replies back to the model, at most `MAX_CORRECTIONS` times per run.

    - A reply whose usable calls can run keeps them: the errors for its other calls go into the
      conversation next to it, and the tools run the rest (the model sees both next).
    - A reply with nothing to run (only bad calls, or empty) is asked again at once, with the
      errors; neither it nor the errors stay in the conversation.
    - After `MAX_CORRECTIONS`, the run ends with the reason in `FAILURE_KEY` (the graph then
      answers that the request could not be completed).
    """

    state_schema = CorrectionState

    def __init__(self, known_tools: Collection[str], *, max_corrections: int = MAX_CORRECTIONS):
        super().__init__()
        self.known_tools = frozenset(known_tools)
        self.max_corrections = max_corrections

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelCallResult[Any]:
        used = _corrections_used(request)
        asked = request
        while True:
            try:
                response = handler(asked)
            except StructuredOutputError as exc:
                # Provider structured output that does not parse (prose, broken JSON) is still
                # an answer: keep the reply and let the output shaping fall back to text.
                return _counted(ModelResponse(result=[exc.ai_message]), used, request)
            reply = next((m for m in reversed(response.result) if isinstance(m, AIMessage)), None)
            if reply is None or response.structured_response is not None:
                return _counted(response, used, request)
            problem = reply_problem(reply, self.known_tools)
            if problem is None:
                return _counted(response, used, request)
            if used >= self.max_corrections:
                # Ends the run: a reply without calls leaves the agent loop.
                unusable = reply.model_copy(update={"tool_calls": [], "invalid_tool_calls": []})
                ended = ModelResponse(result=[unusable])
                update = {FAILURE_KEY: problem.reason, "corrections": used}
                return ExtendedModelResponse(ended, Command(update=update))
            used += 1
            if problem.has_runnable_calls:
                kept = ModelResponse(result=[*response.result, *problem.corrections])
                return ExtendedModelResponse(kept, Command(update={"corrections": used}))
            said = cast(list[AnyMessage], response.result)  # the model's messages
            retry: list[AnyMessage] = [*asked.messages, *said, *problem.corrections]
            asked = asked.override(messages=retry)


def _counted(
    response: ModelResponse[Any], used: int, request: ModelRequest[Any]
) -> ModelCallResult[Any]:
    """The response, with the run's correction count when this step used some."""
    if used == _corrections_used(request):
        return response
    return ExtendedModelResponse(response, Command(update={"corrections": used}))


def _corrections_used(request: ModelRequest[Any]) -> int:
    used = request.state.get("corrections", 0)
    return used if isinstance(used, int) else 0
