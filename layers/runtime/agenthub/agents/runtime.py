"""Compiled turn graphs per (tenant, config version), and the guards around one turn."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from agenthub.domain import TenantRuntimeConfig
from agenthub.errors import UpstreamError


class TurnTimeoutError(UpstreamError):
    code = "turn_timeout"


class GraphCache:
    """Compiled graphs reused while the container is warm; a new config version rebuilds."""

    def __init__(self, build: Callable[[TenantRuntimeConfig], Any], *, max_entries: int = 64):
        self._build = build
        self._max = max_entries
        self._graphs: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, config: TenantRuntimeConfig) -> Any:
        key = (config.tenant_id, config.config_version)
        with self._lock:
            graph = self._graphs.get(key)
            if graph is not None:
                self._graphs.move_to_end(key)
                return graph
        graph = self._build(config)
        with self._lock:
            # Older versions of this tenant are dead weight now.
            for stale in [k for k in self._graphs if k[0] == key[0] and k != key]:
                del self._graphs[stale]
            self._graphs[key] = graph
            while len(self._graphs) > self._max:
                self._graphs.popitem(last=False)
        return graph

    def __len__(self) -> int:
        return len(self._graphs)


class DeadlineGuard(BaseCallbackHandler):
    """Stops a turn at its deadline: no model or tool call starts after it."""

    raise_error = True  # let the exception stop the graph instead of being logged
    # Only model and tool starts matter (a tool start is an "agent" event to LangChain).
    ignore_chain = True
    ignore_retriever = True
    ignore_custom_event = True
    ignore_retry = True

    def __init__(self, *, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + timeout_s

    def _check(self) -> None:
        if time.monotonic() > self.deadline:
            raise TurnTimeoutError(f"the answer took longer than {self.timeout_s:g} s")

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        self._check()

    def on_llm_start(
        self, serialized: dict[str, Any], prompts: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        self._check()

    def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID, **kwargs: Any
    ) -> None:
        self._check()
