"""The turn graph: our own supervisor with handoff tools, and the domain agents it hands off to.

    START -> supervisor --(answers itself)--> END
                 |
                 +-- transfer_to_<agent> calls: Command(goto=[Send("agent", ...)])
                                                   |   (one Send per handoff; parallel policy)
                                                   v
                                                 agent --(the only agent)--> END
                                                   |
                                                   +--(several agents)--> respond -> END

Each step costs a LangGraph task, so the node that knows the turn's answer writes it: the
supervisor when it answers itself, the agent when it is the only one; `respond` only merges
the answers of several agents.

The checkpointed `messages` channel holds only the user-visible transcript (user messages and
final answers); supervisor and tool traffic stay inside the subgraphs, which do not checkpoint.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    RemoveMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.runnables import RunnableConfig
from langgraph.channels import UntrackedValue
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Send

from agenthub.agents.guards import (
    COULD_NOT_COMPLETE,
    FAILURE_KEY,
    MAX_CORRECTIONS,
    reply_problem,
)
from agenthub.agents.memory import transcript, window
from agenthub.agents.output import (
    ANSWER_TOOL,
    ShapedAnswer,
    message_text,
    shape_answer,
    shape_structured,
)
from agenthub.agents.prompts import (
    handoff_tool_name,
    reject_multi_intent_message,
    supervisor_prompt,
)
from agenthub.agents.results import AgentResult, Answer, Routing, RoutingStatus
from agenthub.domain import (
    AgentSpec,
    LlmSpec,
    TenantRuntimeConfig,
    ToolContext,
)
from agenthub.observability import get_logger

if TYPE_CHECKING:
    from agenthub.agents.domain_agent import ToolFactory

AGENT_NODE = "agent"
# The checkpointed transcript keeps this many messages (the messages table keeps them all):
# without a bound, every turn would rewrite an ever longer history into the checkpoint.
MAX_REMEMBERED_MESSAGES = 40
SUPERVISOR = "supervisor"
SECTIONS_FORMAT = ("sections", "sections")

ModelFactory = Callable[[LlmSpec], BaseChatModel]


def _reset_or_extend(old: list[Any] | None, new: list[Any] | None) -> list[Any]:
    """Per-turn accumulators: `None` clears (sent with each new turn), a list extends."""
    if new is None:
        return []
    return [*(old or []), *new]


class TurnState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    results: Annotated[list[AgentResult], _reset_or_extend]
    # The turn's outcome, returned by the run but never checkpointed: each turn starts without
    # one, and the messages table keeps every answer (a checkpoint is the model's memory).
    routing: Annotated[Routing | None, UntrackedValue(object)]
    answer: Annotated[Answer | None, UntrackedValue(object)]


def new_turn_input(message: AnyMessage) -> dict[str, Any]:
    return {"messages": [message], "results": None, "routing": None, "answer": None}


def handoff_tool(agent: AgentSpec) -> dict[str, Any]:
    """The supervisor's tool for handing a request to `agent`, as the model sees it: a name and
    one optional `reason`. The supervisor node runs the handoff itself (`_handoff`): a tool
    object would cost a schema inference per graph build and a tool run per turn."""
    return {
        "type": "function",
        "function": {
            "name": handoff_tool_name(agent.name),
            "description": (
                f"Hand the request to the {agent.display_name} agent: {agent.description}"
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "reason": {
                        "type": "string",
                        "description": "Why this agent fits the user's request",
                    }
                },
            },
        },
    }


def _handoff(
    agent: AgentSpec, call: ToolCall, messages: Sequence[AnyMessage], *, alone: bool = True
) -> Send:
    """The `agent` node's run for one handoff call: the agent, the reason, the conversation,
    and whether it answers alone (then its node ends the turn; else `respond` merges)."""
    reason = call["args"].get("reason")
    # Models often send null (or a non-string) for an optional argument: no reason, no error.
    payload = {
        "agent": agent.name,
        "reason": reason if isinstance(reason, str) else "",
        "messages": transcript(messages),
        "alone": alone,
    }
    return Send(AGENT_NODE, payload)


def _supervisor_node(
    tenant: TenantRuntimeConfig, model: BaseChatModel
) -> Callable[[TurnState, RunnableConfig], dict[str, Any] | Command[Any]]:
    """The supervisor: one model step, a node of the turn graph itself (a subgraph of one node
    would cost a graph run of its own per turn)."""
    agents = {handoff_tool_name(a.name): a for a in tenant.agents}
    tools = [handoff_tool(a) for a in tenant.agents]
    bound = model.bind_tools(tools) if tools else model
    system = SystemMessage(supervisor_prompt(tenant_name=tenant.tenant_name, agents=tenant.agents))

    def decide(state: TurnState, config: RunnableConfig) -> dict[str, Any] | Command[Any]:
        history = window(state["messages"], max_tokens=tenant.memory_max_tokens)
        prompt: list[AnyMessage] = [system, *history]
        for attempt in range(MAX_CORRECTIONS + 1):
            reply = bound.invoke(prompt, config)
            assert isinstance(reply, AIMessage)
            handoffs = _first_call_per_agent([c for c in reply.tool_calls if c["name"] in agents])
            problem = None if handoffs else reply_problem(reply, agents)
            if problem is None:
                break
            if attempt == MAX_CORRECTIONS:
                get_logger().warning("supervisor gave up", extra={"reason": problem.reason})
                return _failed_supervisor(state["messages"], problem.reason)
            # The unusable reply and the errors it earned go back to the model (this step only).
            prompt = [*prompt, reply, *problem.corrections]
        if not handoffs:
            text = message_text(reply.content).strip()
            if not text:  # never an empty answer, nor an empty message remembered
                routing = Routing(SUPERVISOR, "the model's reply was empty", status="error")
                return _supervisor_answer(state["messages"], COULD_NOT_COMPLETE, routing, reply.id)
            routing = Routing(SUPERVISOR, "answered directly: no agent was needed")
            return _supervisor_answer(state["messages"], text, routing, reply.id)
        if len(handoffs) > 1 and tenant.multi_intent_policy == "reject":
            intents = [agents[c["name"]] for c in handoffs]
            routing = Routing(
                SUPERVISOR,
                "several intents ("
                + ", ".join(a.name for a in intents)
                + "); the tenant's policy is to answer one at a time",
                intents=tuple(a.name for a in intents),
            )
            return _supervisor_answer(
                state["messages"], reject_multi_intent_message(intents), routing
            )
        # The handoffs together are this node's next step: one `agent` run each (Send).
        alone = len(handoffs) == 1
        sends = [
            _handoff(agents[call["name"]], call, state["messages"], alone=alone)
            for call in handoffs
        ]
        return Command(goto=sends)

    return decide


def _failed_supervisor(messages: Sequence[AnyMessage], reason: str) -> dict[str, Any]:
    routing = Routing(SUPERVISOR, f"the model's reply could not be used ({reason})", status="error")
    return _supervisor_answer(messages, COULD_NOT_COMPLETE, routing)


def _supervisor_answer(
    messages: Sequence[AnyMessage], text: str, routing: Routing, message_id: str | None = None
) -> dict[str, Any]:
    """The turn's end when the supervisor answers itself: the answer, and its memory."""
    answer = Answer(SUPERVISOR, "text", "markdown", text)
    memory = AIMessage(content=text, name=SUPERVISOR, id=message_id)
    forget = _forget_oldest(messages, adding=1)
    return {"messages": [*forget, memory], "answer": answer, "routing": routing}


def _first_call_per_agent(calls: list[Any]) -> list[Any]:
    seen: set[str] = set()
    unique = []
    for call in calls:
        if call["name"] not in seen:
            seen.add(call["name"])
            unique.append(call)
    return unique


def _tool_call_log(messages: Sequence[AnyMessage]) -> list[dict[str, Any]]:
    """What the agent called, in order, with each call's outcome (stored with the answer)."""
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    log = []
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call["name"] == ANSWER_TOOL:
                    continue  # the structured answer itself, not a tool the agent used
                result = results.get(call["id"] or "")
                # The tool's own metrics (latency, outcome, HTTP status) ride on its result.
                metrics = result.artifact if result and isinstance(result.artifact, dict) else {}
                log.append(
                    {
                        "tool": call["name"],
                        "args": call["args"],
                        "status": result.status if result else "missing",
                        **{k: v for k, v in metrics.items() if k != "tool_name"},
                    }
                )
    return log


def build_turn_graph(
    tenant: TenantRuntimeConfig,
    *,
    model_for: ModelFactory,
    tools_for: ToolFactory,
    checkpointer: BaseCheckpointSaver[Any] | None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the graph for one tenant's configuration (cached by the caller per version).

    Models are set up now (a key that cannot be decrypted is the caller's 503 before the turn
    starts); each domain agent is compiled when a turn first routes to it, so a cold container's
    first turn compiles one agent instead of all of them.
    """
    tenant_model = model_for(tenant.llm)
    specs = {agent.name: agent for agent in tenant.agents}
    models = {
        agent.name: model_for(agent.llm) if agent.llm else tenant_model for agent in tenant.agents
    }

    def compile_agent(spec: AgentSpec) -> CompiledStateGraph[Any, Any, Any, Any]:
        # langchain's agent machinery loads with the first agent a container runs.
        from agenthub.agents.domain_agent import build_domain_agent

        return build_domain_agent(spec, models[spec.name], spec.llm or tenant.llm, tools_for)

    domain_agents = _CompiledOnFirstUse(compile_agent)

    def run_agent(payload: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        spec = specs[payload["agent"]]
        history = window(payload["messages"], max_tokens=tenant.memory_max_tokens)
        out = domain_agents.get(spec).invoke({"messages": history}, config)
        produced = out["messages"][len(history) :]
        calls = _tool_call_log(produced)
        failure = out.get(FAILURE_KEY)
        shaped = None if failure else _shape(spec, produced, out.get("structured_response"))
        if shaped is not None and not shaped.text.strip():
            failure, shaped = "the answer is empty", None
        if shaped is None:
            get_logger().warning("agent gave up", extra={"agent": spec.name, "reason": failure})
            shaped = ShapedAnswer("text", "markdown", COULD_NOT_COMPLETE)
        elif shaped.fallback_reason:
            get_logger().info(
                "answer fell back to text",
                extra={"agent": spec.name, "fallback_reason": shaped.fallback_reason},
            )
        failed = any(call["status"] == "error" for call in calls)
        result = AgentResult(
            agent=spec.name,
            reason=payload.get("reason") or f"matched the {spec.name} agent",
            status="error" if failed or failure else "ok",
            format=shaped.format,
            renderer_hint=shaped.renderer_hint,
            text=shaped.text,
            data=shaped.data,
            tool_calls=tuple(calls),
            fallback_reason=shaped.fallback_reason,
            failure=failure,
        )
        if payload.get("alone", False):
            # The only agent of this turn: its step ends the turn (no `respond` step).
            # Its payload holds the checkpointed transcript (the same messages, with their ids).
            return _final_update(payload["messages"], [result])
        return {"results": [result]}

    def respond(state: TurnState) -> dict[str, Any]:
        return _final_update(state["messages"], state.get("results") or [])

    def after_agent(state: TurnState) -> str:
        return END if state.get("answer") is not None else "respond"

    graph = StateGraph(TurnState, context_schema=ToolContext)
    graph.add_node(SUPERVISOR, _supervisor_node(tenant, tenant_model))  # type: ignore[call-overload]
    graph.add_node(AGENT_NODE, run_agent)  # type: ignore[call-overload]
    graph.add_node("respond", respond)
    graph.add_edge(START, SUPERVISOR)
    graph.add_edge(SUPERVISOR, END)  # or on to the agents (the supervisor's Sends)
    graph.add_conditional_edges(AGENT_NODE, after_agent, ["respond", END])
    graph.add_edge("respond", END)
    return graph.compile(checkpointer=checkpointer, name=f"turn:{tenant.tenant_id}")


def _final_update(messages: Sequence[AnyMessage], results: list[AgentResult]) -> dict[str, Any]:
    """The turn's end after its agents answered: one answer, the routing, and the memory."""
    answer = _answer(results[0]) if len(results) == 1 else _merge(results)
    failures = sum(1 for r in results if r.failure)
    routing = Routing(
        agent=answer.agent,
        reason="; ".join(
            f"{r.agent}: {r.reason}" + (f" (could not answer: {r.failure})" if r.failure else "")
            for r in results
        ),
        intents=tuple(r.agent for r in results) if len(results) > 1 else None,
        status=_status(failures, of=len(results)),
    )
    name = answer.agent.replace(",", "_")
    memory = AIMessage(content=_memory_text(answer), name=name)
    forget = _forget_oldest(messages, adding=1)
    return {"messages": [*forget, memory], "answer": answer, "routing": routing}


class _CompiledOnFirstUse:
    """A tenant graph's domain agents, each compiled once, by the first turn that needs it
    (turns of one warm container may run on several threads: the local gateway, tests)."""

    def __init__(
        self, build: Callable[[AgentSpec], CompiledStateGraph[Any, Any, Any, Any]]
    ) -> None:
        self._build = build
        self._compiled: dict[str, CompiledStateGraph[Any, Any, Any, Any]] = {}
        self._lock = threading.Lock()

    def get(self, spec: AgentSpec) -> CompiledStateGraph[Any, Any, Any, Any]:
        compiled = self._compiled.get(spec.name)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(spec.name)
                if compiled is None:
                    compiled = self._compiled[spec.name] = self._build(spec)
        return compiled


def _status(failures: int, *, of: int) -> RoutingStatus:
    return "ok" if not failures else "error" if failures == of else "partial"


def _shape(spec: AgentSpec, produced: Sequence[AnyMessage], structured: Any) -> ShapedAnswer:
    if structured is not None:
        return shape_structured(structured, spec.output_format)
    final = next(
        (m for m in reversed(produced) if isinstance(m, AIMessage) and not m.tool_calls), None
    )
    return shape_answer(final.content if final else "", spec.output_format)


def _forget_oldest(messages: Sequence[AnyMessage], *, adding: int) -> list[RemoveMessage]:
    excess = len(messages) + adding - MAX_REMEMBERED_MESSAGES
    if excess <= 0:
        return []
    return [RemoveMessage(id=m.id) for m in messages[:excess] if m.id]


def _answer(result: AgentResult) -> Answer:
    return Answer(
        agent=result.agent,
        format=result.format,
        renderer_hint=result.renderer_hint,
        text=result.text,
        data=result.data,
        tool_calls=result.tool_calls,
    )


def _merge(results: list[AgentResult]) -> Answer:
    """Several agents answered one message (parallel policy): one answer, a section each."""
    order = sorted(results, key=lambda r: r.agent)
    sections = [
        {
            "agent": r.agent,
            "status": r.status,
            "format": r.format,
            "renderer_hint": r.renderer_hint,
            "text": r.text,
            "data": r.data,
        }
        for r in order
    ]
    return Answer(
        agent=",".join(r.agent for r in order),
        format=SECTIONS_FORMAT[0],
        renderer_hint=SECTIONS_FORMAT[1],
        text="\n\n".join(f"{r.agent}: {r.text}" for r in order),
        data={"sections": sections},
        tool_calls=tuple(call for r in order for call in r.tool_calls),
    )


def _memory_text(answer: Answer) -> str:
    """What the next turn remembers of this answer: its text and, compactly, its data."""
    if answer.data is None:
        return answer.text
    data = json.dumps(answer.data, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"{answer.text}\n\ndata: {data[:4000]}"
