"""What every runtime tool shares.

- The model sees `args_schema`; the call validates the arguments itself (see RuntimeTool).
- Who is calling (tenant, user, JWT) comes from the graph run's context (LangGraph's runtime
  context, a `ToolContext`), or `config["configurable"][TOOL_CONTEXT_KEY]` when a tool is invoked
  outside a graph; never from the model-visible schema.
- A failure is a tool result, not a crash: `ToolFailure` becomes the ToolMessage content
  `{"error": {"type", "status", "message", "detail"}}` with status "error".
- Every call's metrics `{"tool_id", "tool_name", "latency_ms", "outcome", "http_status"}` are
  the ToolMessage's `artifact` (and appended to a collector at
  `config["configurable"][TOOL_CALLS_KEY]` when there is one).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForToolRun
from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langchain_core.tools.base import FILTERED_ARGS
from pydantic import BaseModel, ValidationError

from agenthub.domain import CITATIONS_KEY, TOOL_CALLS_KEY, TOOL_CONTEXT_KEY, ToolContext
from agenthub.observability import get_logger

# What every provider accepts as a function name (OpenAI's rule is the strictest).
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

ErrorType = Literal[
    "http_status",
    "timeout",
    "network",
    "invalid_json",
    "oversize",
    "ssrf_blocked",
    "no_context",
    "bad_arguments",
    "configuration",  # the tool's stored credential cannot be used (e.g. undecryptable)
    "query",  # DB_QUERY: the database refused the query (SQLSTATE in the detail)
    "no_document",  # an OCR tool was called without an attached file
    "document",  # the attached file cannot be read (encrypted, damaged, too large, ...)
    "internal",  # a bug of ours, logged with its traceback
]


class ToolFailure(ToolException):
    """A failed call, as the agent will read it. `message` must be safe: no secrets."""

    def __init__(
        self, error_type: ErrorType, message: str, *, status: int | None = None, detail: Any = None
    ) -> None:
        super().__init__(message)
        self.error_type: ErrorType = error_type
        self.message = message
        self.status = status
        self.detail = detail

    def content(self) -> str:
        return compact_json(
            {
                "error": {
                    "type": self.error_type,
                    "status": self.status,
                    "message": self.message,
                    "detail": self.detail,
                }
            }
        )


@dataclass(frozen=True)
class CallResult:
    content: str
    http_status: int | None = None
    citations: tuple[dict[str, Any], ...] = ()


# Runs one validated call for the caller in the context; raises ToolFailure when it fails.
Execute = Callable[[dict[str, Any], ToolContext], CallResult]


class RuntimeTool(StructuredTool):
    """A StructuredTool whose function receives the raw arguments and validates them itself.

    LangChain validates `args_schema` before the function runs, where neither the
    RunnableConfig (metrics collector) nor our error format is at hand. Passing the arguments
    through makes a bad call one more tool result, recorded like any other. The model still
    sees `args_schema` (`tool_call_schema`), and the function still gets the RunnableConfig:
    StructuredTool passes it to a parameter annotated `RunnableConfig`.
    """

    def _to_args_and_kwargs(
        self, tool_input: str | dict[str, Any], tool_call_id: str | None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (), {"arguments": tool_input, "tool_call_id": tool_call_id}

    # StructuredTool finds out, on every call, what these two know already (each inspects a
    # signature or the args model's annotations): `func` is `runtime_tool`'s `call`, which
    # takes the config by name and no callbacks, and an args model built from a JSON schema
    # has no injected arguments.

    def _filter_injected_args(self, tool_input: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in tool_input.items() if k not in FILTERED_ARGS}

    def _run(
        self,
        *args: Any,
        config: RunnableConfig,
        run_manager: CallbackManagerForToolRun | None = None,
        **kwargs: Any,
    ) -> Any:
        assert self.func is not None  # runtime_tool always gives one
        return self.func(*args, config=config, **kwargs)


def runtime_tool(
    *,
    tool_id: str,
    name: str,
    description: str,
    args_model: type[BaseModel],
    execute: Execute,
) -> BaseTool:
    """A tool that validates, runs `execute` with the caller's context, and records the call."""

    def call(
        arguments: Any, config: RunnableConfig, tool_call_id: str | None = None
    ) -> str | ToolMessage:
        started = time.perf_counter()
        try:
            context = tool_context(config)
            result = execute(validated_arguments(args_model, arguments), context)
        except Exception as exc:
            failure = exc if isinstance(exc, ToolFailure) else None
            if failure is None:
                get_logger().exception("tool failed unexpectedly", extra={"tool_name": name})
                failure = ToolFailure("internal", "the tool failed unexpectedly")
            record = _record(config, tool_id, name, started, failure.error_type, failure.status)
            if tool_call_id is None:  # called without a tool call: the error handler answers
                raise failure from exc
            return ToolMessage(
                failure.content(),
                tool_call_id=tool_call_id,
                name=name,
                status="error",
                artifact=record,
            )
        record = _record(config, tool_id, name, started, "ok", result.http_status)
        if result.citations:
            cited = (config.get("configurable") or {}).get(CITATIONS_KEY)
            if cited is not None:
                cited.extend(result.citations)
        if tool_call_id is None:
            return result.content
        # The call's metrics travel with its result (the artifact), not re-joined by name.
        return ToolMessage(result.content, tool_call_id=tool_call_id, name=name, artifact=record)

    return RuntimeTool(
        name=name,
        description=description,
        args_schema=args_model,
        func=call,
        handle_tool_error=failure_content,
    )


def failure_content(error: ToolException) -> str:
    """`handle_tool_error`: the JSON the agent reads instead of a crash."""
    if isinstance(error, ToolFailure):
        return error.content()
    return ToolFailure("internal", "the tool failed").content()


def tool_context(config: RunnableConfig) -> ToolContext:
    """The caller: the graph run's context (`graph.invoke(..., context=ToolContext(...))`),
    else `config["configurable"][TOOL_CONTEXT_KEY]` (a tool invoked outside a graph)."""
    context = _run_context()
    if not isinstance(context, ToolContext):
        context = (config.get("configurable") or {}).get(TOOL_CONTEXT_KEY)
    if not isinstance(context, ToolContext):
        raise ToolFailure("no_context", "the tool was called without the user's context")
    return context


def _run_context() -> Any:
    from langgraph.runtime import get_runtime

    try:
        runtime = get_runtime()
    except (RuntimeError, KeyError):  # not inside a graph run
        return None
    return getattr(runtime, "context", None)


def validated_arguments(args_model: type[BaseModel], arguments: Any) -> dict[str, Any]:
    """The arguments as JSON values; an absent optional argument is left out (never null)."""
    if not isinstance(arguments, dict):
        raise ToolFailure("bad_arguments", "the arguments must be a JSON object")
    try:
        return args_model.model_validate(arguments).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(map(str, error["loc"])) or "(arguments)", "message": error["msg"]}
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise ToolFailure(
            "bad_arguments", "the arguments do not match the tool's schema", detail=problems
        ) from exc


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _record(
    config: RunnableConfig,
    tool_id: str,
    name: str,
    started: float,
    outcome: str,
    http_status: int | None,
) -> dict[str, Any]:
    record = {
        "tool_id": tool_id,
        "tool_name": name,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "outcome": outcome,
        "http_status": http_status,
    }
    get_logger().info("tool call", extra=record)
    collector = (config.get("configurable") or {}).get(TOOL_CALLS_KEY)
    if collector is not None:
        collector.append(record)
    return record
