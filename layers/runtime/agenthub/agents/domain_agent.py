"""A domain agent: langchain's `create_agent` with the agent's tools, output format and guards.

Imported when a turn first routes to an agent (agents/graph.py), so that a container whose
first turns the supervisor answers does not load langchain's agent machinery.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware
from langchain.agents.structured_output import ProviderStrategy, ToolStrategy
from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.graph.state import CompiledStateGraph

from agenthub.agents.correction import CorrectionMiddleware
from agenthub.agents.direct import DIRECT_FORMATS, DirectToolAnswer
from agenthub.agents.output import (
    ANSWER_TOOL,
    answer_schema,
    format_instructions,
    is_structured,
)
from agenthub.domain import AgentSpec, LlmSpec, OutputFormatSpec, ToolContext, ToolSpec

ToolFactory = Callable[[Sequence[ToolSpec]], list[BaseTool]]


def build_domain_agent(
    spec: AgentSpec, model: BaseChatModel, llm: LlmSpec, tools_for: ToolFactory
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A domain agent; its card/table/chart answers use the provider's structured output when
    the model has one (the offline model gets the format in its prompt and is parsed)."""
    tools = tools_for(spec.tools)
    fmt = spec.output_format
    response_format: ToolStrategy[Any] | ProviderStrategy[Any] | None = None
    mode = structured_output_mode(llm)
    if is_structured(fmt) and mode == "provider":
        response_format = ProviderStrategy(answer_schema(fmt))
    elif is_structured(fmt) and mode == "tool":
        response_format = ToolStrategy(answer_schema(fmt))
    if response_format is None:
        prompt = f"{spec.system_prompt.strip()}\n\n{format_instructions(fmt)}"
    else:
        prompt = f"{spec.system_prompt.strip()}\n\n{structured_instructions(fmt, mode)}"
    known = {tool.name for tool in tools} | ({ANSWER_TOOL} if mode == "tool" else set())
    middleware: list[AgentMiddleware[Any, Any, Any]] = [CorrectionMiddleware(known)]
    if (
        response_format is not None
        and fmt.name in DIRECT_FORMATS
        and llm.extra.get("direct_tool_answers", True)
    ):
        middleware.insert(0, DirectToolAnswer(fmt))
    return create_agent(
        model,
        tools=tools,
        system_prompt=prompt,
        response_format=response_format,
        middleware=middleware,
        context_schema=ToolContext,
        name=spec.name,
        checkpointer=False,
    )


def structured_output_mode(llm: LlmSpec) -> str:
    """How a model gives structured answers: `provider` (native JSON schema output), `tool`
    (a forced answer tool, any tool-calling model) or `prompt` (asked in the prompt, parsed).
    `LlmSpec.extra["structured_output"]` overrides the provider's default."""
    configured = llm.extra.get("structured_output")
    if configured in ("provider", "tool", "prompt"):
        return str(configured)
    return "prompt" if llm.provider == "offline" else "tool"


def structured_instructions(fmt: OutputFormatSpec, mode: str) -> str:
    how = f"call the {ANSWER_TOOL} tool with" if mode == "tool" else "reply with one JSON object of"
    return (
        f"## Output format: {fmt.name}\n"
        f"When you have what you need, {how} a short answer for the user as `text` and the "
        f"{fmt.name} as `data`; if you cannot give the {fmt.name}, set `data` to null and say "
        "why in `text`."
    )
