"""One chat turn, streamed: the same turn as `ChatService` (session claim, memory, persistence,
"no half turn"), with what happens in it delivered as typed events while it happens.

    ChatStreamService.start(turn, deliver) -> TurnStream        (a worker thread runs the turn)
      deliver(TurnStarted())                                     the graph is about to run
      deliver(RoutingEvent | ToolStarted | ToolEnded | TokenEvent)*
      deliver(TurnAnswered(answer) | TurnFailed(error))          exactly one, last

Everything before `TurnStarted` (rate limit, unusable LLM config, unknown or busy session) fails
as `TurnFailed` alone, so the HTTP layer can answer it with its plain status.

How: `ChatService.with_graphs` runs the turn on a graph whose `invoke` streams instead
(`stream_mode` messages, updates, tasks, custom and values, with subgraphs), and the events are
read from LangGraph's stream and from callbacks, relying only on the node names `supervisor` and
`agent`, the state keys `routing` and `answer`, and callback metadata.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessageChunk

from agenthub.agents.output import message_text
from agenthub.agents.results import Routing
from agenthub.domain import TenantRuntimeConfig
from agenthub.errors import AgentHubError
from agenthub.observability import get_logger
from agenthub.services.chat import ChatAnswer, ChatService, ChatTurn
from agenthub.services.stream_text import AnswerText, PlainText

SUPERVISOR_NODE = "supervisor"
AGENT_NODE = "agent"
STREAM_MODES = ["messages", "updates", "tasks", "custom", "values"]
_TOOL_EVENT = "agenthub_tool_event"  # marks our custom stream events


class TurnCancelledError(AgentHubError):
    """The client left: the turn stops at its next step and is discarded like a failed one."""

    code = "client_disconnected"


# --- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnStarted:
    """The turn passed every check and its graph is starting."""


@dataclass(frozen=True)
class RoutingEvent:
    agent: str
    reason: str
    intents: tuple[dict[str, str], ...] = ()  # several intents: each agent and its reason

    kind = "routing"


@dataclass(frozen=True)
class ToolStarted:
    tool: str
    agent: str

    kind = "tool_start"


@dataclass(frozen=True)
class ToolEnded:
    tool: str
    agent: str
    status: str  # ok | error
    latency_ms: float

    kind = "tool_end"


@dataclass(frozen=True)
class TokenEvent:
    agent: str
    text: str

    kind = "token"


@dataclass(frozen=True)
class TurnAnswered:
    answer: ChatAnswer


@dataclass(frozen=True)
class TurnFailed:
    error: BaseException


TurnEvent = RoutingEvent | ToolStarted | ToolEnded | TokenEvent
TURN_EVENTS = (RoutingEvent, ToolStarted, ToolEnded, TokenEvent)
Delivery = TurnStarted | TurnEvent | TurnAnswered | TurnFailed
Deliver = Callable[[Delivery], None]


# --- the service -----------------------------------------------------------------------------


class ChatStreamService:
    def __init__(self, *, chat: ChatService) -> None:
        self._chat = chat

    def start(self, turn: ChatTurn, deliver: Deliver) -> TurnStream:
        stream = TurnStream(self._chat, turn, deliver)
        stream.start()
        return stream


class TurnStream:
    """One streamed turn on its own thread; `cancel()` stops it at its next step."""

    def __init__(self, chat: ChatService, turn: ChatTurn, deliver: Deliver) -> None:
        self._turn = turn
        self._deliver = deliver
        self._cancelled = threading.Event()
        self._chat = chat.with_graphs(lambda graphs: _StreamingGraphs(graphs, self))
        self._thread = threading.Thread(target=self._run, name="chat-stream", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancelled.set()

    def check(self) -> None:
        if self._cancelled.is_set():
            raise TurnCancelledError("the client disconnected; the turn was stopped")

    def emit(self, event: Delivery) -> None:
        if not self._cancelled.is_set():
            self._deliver(event)

    def _run(self) -> None:
        try:
            answer = self._chat.handle(self._turn)
        except TurnCancelledError:
            get_logger().info("streamed turn stopped: the client disconnected")
        except Exception as exc:  # delivered to the client as an error event
            self.emit(TurnFailed(error=exc))
        else:
            self.emit(TurnAnswered(answer=answer))

    # --- the streaming graph run -------------------------------------------------------------

    def run_graph(
        self,
        graph: Any,
        graph_input: Any,
        config: dict[str, Any],
        **kwargs: Any,
    ) -> Any:
        """What `graph.invoke(graph_input, config, **kwargs)` returns, streaming meanwhile."""
        self.check()
        self.emit(TurnStarted())
        translator = _Translator(self)
        guards = [_CancelGuard(self), _ToolEvents()]
        config = {**config, "callbacks": _with_handlers(config.get("callbacks"), guards)}
        final: Any = None
        parts = graph.stream(
            graph_input, config, stream_mode=STREAM_MODES, subgraphs=True, **kwargs
        )
        with closing(parts):
            for namespace, mode, data in parts:
                self.check()
                if mode == "values" and not namespace:
                    final = data
                else:
                    translator.feed(tuple(namespace), mode, data)
        translator.flush()
        return final


def _with_handlers(callbacks: Any, handlers: list[BaseCallbackHandler]) -> Any:
    if callbacks is None:
        return handlers
    if isinstance(callbacks, list):
        return [*callbacks, *handlers]
    manager = callbacks.copy()  # a CallbackManager
    for handler in handlers:
        manager.add_handler(handler, inherit=True)
    return manager


class _StreamingGraphs:
    """The service's graph source, with each graph's `invoke` streaming into `stream`."""

    def __init__(self, graphs: Any, stream: TurnStream) -> None:
        self._graphs = graphs
        self._stream = stream

    def get(self, config: TenantRuntimeConfig) -> Any:
        return _StreamingGraph(self._graphs.get(config), self._stream)


class _StreamingGraph:
    def __init__(self, graph: Any, stream: TurnStream) -> None:
        self._graph = graph
        self._stream = stream

    def invoke(self, graph_input: Any, config: dict[str, Any], **kwargs: Any) -> Any:
        return self._stream.run_graph(self._graph, graph_input, config, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._graph, name)


# --- callbacks -------------------------------------------------------------------------------


class _CancelGuard(BaseCallbackHandler):
    """No model call, tool call or further token once the client has left."""

    raise_error = True
    # Model and tool events only (a tool start is an "agent" event to LangChain).
    ignore_chain = True
    ignore_retriever = True
    ignore_custom_event = True
    ignore_retry = True

    def __init__(self, stream: TurnStream) -> None:
        self._stream = stream

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self._stream.check()

    def on_llm_start(self, serialized: Any, prompts: Any, **kwargs: Any) -> None:
        self._stream.check()

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        self._stream.check()

    def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> None:
        self._stream.check()


@dataclass
class _RunningTool:
    name: str
    agent: str
    started: float = field(default_factory=time.perf_counter)


class _ToolEvents(BaseCallbackHandler):
    """Tool start and end, written to the graph's own stream (custom mode) so they arrive in
    order with the tokens; only the tool's name, agent, outcome and latency: never its input
    or output, which may carry the user's JWT or a tenant secret."""

    # Tool events only: without these, every model call would turn its whole prompt into text
    # for this handler (LangChain's fallback for a handler without `on_chat_model_start`).
    ignore_chat_model = True
    ignore_llm = True
    ignore_chain = True
    ignore_retriever = True
    ignore_custom_event = True
    ignore_retry = True

    def __init__(self) -> None:
        self._running: dict[UUID, _RunningTool] = {}

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        metadata = metadata or {}
        namespace = str(metadata.get("langgraph_checkpoint_ns") or "")
        if not namespace.startswith(f"{AGENT_NODE}:"):
            return  # a handoff tool of the supervisor, not a domain tool
        name = str((serialized or {}).get("name") or kwargs.get("name") or "tool")
        # Without the agent's name here, the translator names it from the event's namespace.
        running = _RunningTool(name=name, agent=str(metadata.get("lc_agent_name") or ""))
        self._running[run_id] = running
        _write({"event": "tool_start", "tool": running.name, "agent": running.agent})

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        running = self._running.pop(run_id, None)
        if running is not None:
            status = "error" if getattr(output, "status", "success") == "error" else "ok"
            self._ended(running, status)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        running = self._running.pop(run_id, None)
        if running is not None:
            self._ended(running, "error")

    @staticmethod
    def _ended(running: _RunningTool, status: str) -> None:
        latency = round((time.perf_counter() - running.started) * 1000, 1)
        _write(
            {
                "event": "tool_end",
                "tool": running.name,
                "agent": running.agent,
                "status": status,
                "latency_ms": latency,
            }
        )


def _write(event: dict[str, Any]) -> None:
    from langgraph.config import get_stream_writer

    try:
        writer = get_stream_writer()
    except RuntimeError:  # not inside a graph run: nobody to tell
        return
    writer({_TOOL_EVENT: event})


# --- from LangGraph's stream to our events ---------------------------------------------------


class _Translator:
    """Reads the stream's parts (namespace, mode, data) and emits our events."""

    def __init__(self, stream: TurnStream) -> None:
        self._stream = stream
        self._agent_of_task: dict[str, str] = {}
        self._handoffs: list[dict[str, str]] = []
        self._routed = False
        self._replies: dict[str, _Reply] = {}

    def feed(self, namespace: tuple[str, ...], mode: str, data: Any) -> None:
        if self._handoffs and not (not namespace and mode == "tasks" and _is_agent_start(data)):
            self.flush()
        if mode == "messages":
            self._message(namespace, *data)
        elif mode == "tasks" and not namespace and _is_agent_start(data):
            self._agent_started(data)
        elif mode == "updates" and not namespace:
            self._update(data)
        elif mode == "custom" and isinstance(data, dict) and _TOOL_EVENT in data:
            self._tool_event(namespace, data[_TOOL_EVENT])

    def flush(self) -> None:
        """The handoffs of one supervisor decision, as one routing event."""
        if not self._handoffs:
            return
        handoffs, self._handoffs = self._handoffs, []
        if len(handoffs) == 1:
            event = RoutingEvent(agent=handoffs[0]["agent"], reason=handoffs[0]["reason"])
        else:
            event = RoutingEvent(
                agent=",".join(sorted(h["agent"] for h in handoffs)),
                reason="; ".join(f"{h['agent']}: {h['reason']}" for h in handoffs),
                intents=tuple(handoffs),
            )
        self._route(event)

    def _route(self, event: RoutingEvent) -> None:
        self._routed = True
        self._stream.emit(event)

    def _agent_started(self, task: dict[str, Any]) -> None:
        payload = task.get("input")
        agent = str(payload.get("agent", "")) if isinstance(payload, dict) else ""
        reason = str(payload.get("reason") or "") if isinstance(payload, dict) else ""
        self._agent_of_task[str(task.get("id"))] = agent
        self._handoffs.append({"agent": agent, "reason": reason})

    def _update(self, update: Any) -> None:
        if not isinstance(update, dict) or self._routed:
            return
        supervisor = update.get(SUPERVISOR_NODE)
        routing = supervisor.get("routing") if isinstance(supervisor, dict) else None
        if isinstance(routing, Routing):  # the turn graph's typed routing
            routing = routing.as_dict()
        if isinstance(routing, dict) and routing.get("agent"):
            intents = tuple({"agent": str(name)} for name in routing.get("intents") or ())
            self._route(
                RoutingEvent(
                    agent=str(routing["agent"]),
                    reason=str(routing.get("reason") or ""),
                    intents=intents,
                )
            )

    def _agent_of(self, namespace: tuple[str, ...]) -> str:
        """The domain agent whose `agent` task this namespace is inside."""
        root, _, task_id = (namespace[0] if namespace else "").partition(":")
        return self._agent_of_task.get(task_id, "") if root == AGENT_NODE else ""

    def _tool_event(self, namespace: tuple[str, ...], event: dict[str, Any]) -> None:
        agent = str(event.get("agent") or self._agent_of(namespace))
        if event.get("event") == "tool_start":
            self._stream.emit(ToolStarted(tool=event["tool"], agent=agent))
        elif event.get("event") == "tool_end":
            self._stream.emit(
                ToolEnded(
                    tool=event["tool"],
                    agent=agent,
                    status=event["status"],
                    latency_ms=event["latency_ms"],
                )
            )

    def _message(self, namespace: tuple[str, ...], chunk: Any, metadata: dict[str, Any]) -> None:
        if not isinstance(chunk, AIMessageChunk):
            return  # whole messages written by nodes, not a model's tokens
        # Domain agents run as subgraphs (a namespace); the supervisor is a node of the turn
        # graph itself, whose model call carries the node's task in its metadata.
        scope = namespace[0] if namespace else str(metadata.get("langgraph_checkpoint_ns") or "")
        root = scope.partition(":")[0]
        if root == SUPERVISOR_NODE:
            agent = SUPERVISOR_NODE
        elif root == AGENT_NODE:
            agent = str(metadata.get("lc_agent_name") or self._agent_of(namespace))
        else:
            return
        key = f"{scope}|{chunk.id}"
        reply = self._replies.get(key)
        if reply is None:
            # A domain agent replies `{"text", "data"}`: only the text streams, never the JSON
            # of a card, table or chart (the answer event brings the validated data).
            reader = PlainText() if agent == SUPERVISOR_NODE else AnswerText()
            reply = self._replies[key] = _Reply(agent, reader)
        if chunk.tool_call_chunks:
            reply.reader = None  # a tool call (or a handoff): not an answer to the user
        if reply.reader is None:
            return
        text = reply.reader.feed(message_text(chunk.content))
        if not text:
            return
        if agent == SUPERVISOR_NODE and not self._routed:
            self._route(
                RoutingEvent(agent=SUPERVISOR_NODE, reason="answering directly: no agent needed")
            )
        self._stream.emit(TokenEvent(agent=agent, text=text))


def _is_agent_start(task: Any) -> bool:
    return isinstance(task, dict) and task.get("name") == AGENT_NODE and "input" in task


@dataclass
class _Reply:
    agent: str
    reader: PlainText | AnswerText | None
