"""One chat turn: config, session, graph, memory, answer, persistence. No HTTP here."""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from langchain_core.messages import HumanMessage
from pydantic import SecretStr

from agenthub.agents.graph import new_turn_input
from agenthub.agents.memory import thread_id as make_thread_id
from agenthub.agents.results import Answer, Routing
from agenthub.agents.runtime import DeadlineGuard, GraphCache
from agenthub.db.chat_store import ChatStore, NewMessage, TurnCheckpoint
from agenthub.domain import CITATIONS_KEY, Attachment, TenantRuntimeConfig, ToolContext
from agenthub.errors import (
    ConfigurationError,
    ConflictError,
    DecryptionError,
    NotFoundError,
    ServiceUnavailableError,
)
from agenthub.llm.errors import translate_provider_error
from agenthub.llm.usage import Usage, UsageCollector
from agenthub.observability import get_logger
from agenthub.services.attachments import attachment_note, attachments_data


class RuntimeConfigSource(Protocol):
    def get(self, tenant_id: str) -> TenantRuntimeConfig: ...


class HeldCheckpoint(TurnCheckpoint, Protocol):
    """A turn's checkpoint, held back to be written with its rows (agenthub.db.turn_saver)."""

    def __bool__(self) -> bool: ...


class Checkpoints(Protocol):
    """The part of the checkpointer housekeeping a turn needs (see agenthub.db.checkpoints)."""

    def marker(self) -> str: ...

    def turn_metadata(self, marker: str) -> dict[str, str]: ...

    def hold(
        self, marker: str, *, new_thread: bool = False
    ) -> AbstractContextManager[HeldCheckpoint]: ...


@dataclass(frozen=True)
class ChatTurn:
    tenant_id: str
    user_id: str
    user_jwt: SecretStr = field(repr=False)
    message: str
    session_id: uuid.UUID | None = None
    request_id: str = ""
    # Checked uploads of the caller (services.uploads.UploadService.resolve).
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class ChatAnswer:
    session_id: uuid.UUID
    message_id: uuid.UUID
    agent: str
    format: str
    renderer_hint: str
    data: Any
    text: str
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal
    latency_ms: int
    routing: Routing
    tool_calls: list[dict[str, Any]]
    llm_calls: list[dict[str, Any]]
    # Knowledge chunks the answer drew on (RAG tools): [{document_id, title, snippet, score}].
    citations: list[dict[str, Any]] = field(default_factory=list)


class ChatService:
    def __init__(
        self,
        *,
        store: ChatStore,
        configs: RuntimeConfigSource,
        graphs: GraphCache,
        checkpoints: Checkpoints,
        turn_timeout_s: float,
        max_steps: int,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._store = store
        self._configs = configs
        self._graphs = graphs
        self._checkpoints = checkpoints
        self._turn_timeout_s = turn_timeout_s
        self._max_steps = max_steps
        self._clock = clock

    def handle(self, turn: ChatTurn) -> ChatAnswer:
        started = self._clock()
        config = self._configs.get(turn.tenant_id)
        session_id = turn.session_id or uuid.uuid4()
        graph = self._usable_graph(config)
        if turn.session_id is not None:
            self._claim_session(turn)  # released by the stored answer, or below on failure
        thread = make_thread_id(
            tenant_id=turn.tenant_id, user_id=turn.user_id, session_id=str(session_id)
        )
        usage = UsageCollector(prices=_prices(config))
        # Chunks the knowledge tools cite in this turn (the answer's citations).
        cited: list[dict[str, Any]] = []
        marker = self._checkpoints.marker()
        # Who is calling reaches the tools as the run's context (LangGraph runtime context).
        context = ToolContext(
            tenant_id=turn.tenant_id,
            user_id=turn.user_id,
            user_jwt=turn.user_jwt,
            session_id=str(session_id),
            request_id=turn.request_id,
            attachments=turn.attachments,
        )
        run_config: dict[str, Any] = {
            "configurable": {"thread_id": thread, CITATIONS_KEY: cited},
            "callbacks": [usage, DeadlineGuard(timeout_s=self._turn_timeout_s)],
            "recursion_limit": self._max_steps,
            "metadata": self._checkpoints.turn_metadata(marker),
            "tags": [f"tenant:{turn.tenant_id}"],
        }
        try:
            # The run's checkpoint is stored with the turn's rows, in one commit; a new
            # session's thread has none to read yet.
            new_thread = turn.session_id is None
            with self._checkpoints.hold(marker, new_thread=new_thread) as checkpoint:
                state = graph.invoke(
                    new_turn_input(HumanMessage(turn.message + attachment_note(turn.attachments))),
                    run_config,
                    context=context,
                    durability="exit",
                )
                answer, routing = state["answer"], state["routing"]
                latency_ms = int((self._clock() - started) * 1000)
                totals = usage.totals()
                tool_calls = list(answer.tool_calls)
                citations = _unique_citations(cited)
                message_id = self._store_turn(
                    turn,
                    session_id,
                    answer,
                    tool_calls,
                    totals,
                    latency_ms,
                    usage,
                    citations,
                    checkpoint=checkpoint,
                )
        except Exception as exc:
            # No half turn: its checkpoint was held and is dropped, its rows were never written.
            self._release_session(turn)
            translated = translate_provider_error(exc)
            if translated is None:
                raise
            get_logger().warning("llm provider failed", extra={"error_code": translated.code})
            raise translated from exc
        return ChatAnswer(
            session_id=session_id,
            message_id=message_id,
            agent=answer.agent,
            format=answer.format,
            renderer_hint=answer.renderer_hint,
            data=answer.data,
            text=answer.text,
            input_tokens=totals.input_tokens,
            output_tokens=totals.output_tokens,
            cost_usd=totals.cost_usd,
            latency_ms=latency_ms,
            routing=routing or Routing(answer.agent, ""),
            tool_calls=tool_calls,
            llm_calls=[asdict(call) for call in usage.calls],
            citations=citations,
        )

    # --- Reuse: the streamed turn (services/chat_stream.py) runs this same turn ---------------

    def with_graphs(self, wrap: Callable[[Any], Any]) -> ChatService:
        """This service, with its graph source replaced by `wrap(graph source)` (anything with
        `get(config) -> graph`): the streamed turn wraps each graph so that `invoke` streams,
        and keeps everything else of the turn as it is here."""
        clone = copy.copy(self)
        clone._graphs = wrap(self._graphs)
        return clone

    def _usable_graph(self, config: TenantRuntimeConfig) -> Any:
        """The tenant's compiled graph; a tenant whose LLM cannot be set up (no key, a key the
        current Fernet keys cannot decrypt, bad model settings) gets a clear 503, not a 500."""
        try:
            return self._graphs.get(config)
        except (ConfigurationError, DecryptionError, ValueError) as exc:
            get_logger().error(
                "tenant graph cannot be built",
                extra={"tenant_id": config.tenant_id, "error": type(exc).__name__},
            )
            raise ServiceUnavailableError(
                "this organisation's assistant is not usable right now: its LLM configuration "
                "needs an administrator's attention"
            ) from exc

    def _claim_session(self, turn: ChatTurn) -> None:
        """One turn at a time per session: a double submit gets 409 instead of forking the
        conversation's memory. A claim older than the turn timeout is taken over."""
        assert turn.session_id is not None
        claimed = self._store.claim_turn(
            tenant_id=turn.tenant_id,
            user_id=turn.user_id,
            session_id=turn.session_id,
            stale_after_s=self._turn_timeout_s * 3,
        )
        if claimed is None:
            raise NotFoundError("session not found")
        if not claimed:
            raise ConflictError(
                "the previous message of this session is still being answered; "
                "send this one when it is done"
            )

    def _release_session(self, turn: ChatTurn) -> None:
        if turn.session_id is None:
            return
        try:
            self._store.release_turn(tenant_id=turn.tenant_id, session_id=turn.session_id)
        except Exception:  # the claim goes stale by itself; the turn's own error matters more
            get_logger().warning("could not release the session's turn claim")

    def _store_turn(
        self,
        turn: ChatTurn,
        session_id: uuid.UUID,
        answer: Answer,
        tool_calls: list[dict[str, Any]],
        totals: Usage,
        latency_ms: int,
        usage: UsageCollector,
        citations: list[dict[str, Any]] | None = None,
        *,
        checkpoint: HeldCheckpoint,
    ) -> uuid.UUID:
        models = sorted({call.model_name for call in usage.calls if call.model_name})
        user = NewMessage(
            role="user", content=turn.message, data=attachments_data(turn.attachments)
        )
        assistant = NewMessage(
            role="assistant",
            content=answer.text,
            agent=answer.agent,
            format=answer.format,
            renderer_hint=answer.renderer_hint,
            data=answer.data,
            tool_calls=tool_calls,
            input_tokens=totals.input_tokens,
            output_tokens=totals.output_tokens,
            cost_usd=totals.cost_usd,
            latency_ms=latency_ms,
            llm_model=",".join(models) or None,
            citations=citations or None,
        )
        # One statement: the session row, both messages and the attachments' link, or nothing;
        # one commit with the run's checkpoint.
        upload_ids = [uuid.UUID(a.upload_id) for a in turn.attachments]
        write = self._store.start_session if turn.session_id is None else self._store.append_turn
        stored = write(
            tenant_id=turn.tenant_id,
            user_id=turn.user_id,
            session_id=session_id,
            user=user,
            assistant=assistant,
            upload_ids=upload_ids,
            checkpoint=checkpoint if checkpoint else None,
        )
        return stored.assistant_message_id


def _prices(config: TenantRuntimeConfig) -> dict[str, tuple[Decimal, Decimal]]:
    specs = [config.llm, *(a.llm for a in config.agents if a.llm is not None)]
    return {s.model_name: (s.input_price_per_1k, s.output_price_per_1k) for s in specs}


def _unique_citations(cited: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each cited chunk once (an agent may search twice), best score first."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for citation in cited:
        key = (str(citation.get("document_id")), str(citation.get("snippet")))
        if key not in best or citation.get("score", 0) > best[key].get("score", 0):
            best[key] = citation
    return sorted(best.values(), key=lambda c: -float(c.get("score") or 0))
