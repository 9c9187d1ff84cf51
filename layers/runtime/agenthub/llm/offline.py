"""A deterministic chat model that needs no network: the embedded default and the demo's model.

It plays both roles of the turn graph from what it is given:
- supervisor (its bound tools are `transfer_to_*` handoffs): routes the last user message to the
  agents whose name and description it matches (one call per intent), or answers greetings,
  help and out-of-scope requests itself;
- domain agent (other tools): picks the tool that fits the message, fills its arguments from
  the JSON Schema (asking for what is missing or invalid), and after the tool result writes the
  `{"text", "data"}` answer of the output format named in the system prompt.
Every final answer starts with "[offline model] ", so nobody mistakes it for a real model.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from agenthub.llm.offline_answers import (
    answer_from_result,
    error_of,
    explain_error,
    json_answer,
    marked,
    parse_result,
)
from agenthub.llm.offline_arguments import FilledArguments, fill_arguments, recall_arguments
from agenthub.llm.offline_context import fill_from_conversation
from agenthub.llm.offline_text import Match, humanize, humanize_inline, rank, vocabulary

OFFLINE_PROVIDER = "offline"
HANDOFF_PREFIX = "transfer_to_"

_FORMAT_NAME = re.compile(r"^## Output format:\s*(?P<name>\S+)\s*$", re.MULTILINE)
# The graph words a handoff's description as "Hand the request to the X agent: <description>".
_HANDOFF_WORDING = re.compile(r"^Hand the request to the .+? agent: (?P<description>.*)$", re.S)
_FORMAT_SCHEMA = re.compile(r"^Schema:\s*(?P<schema>\{.*\})\s*$", re.MULTILINE)
_HELP = re.compile(
    r"\bhelp\b|what can you do|what do you do|capabilit|giúp|bạn (có thể )?làm (được )?gì",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\W*(hi|hello|hey|good (morning|afternoon|evening)|xin chào|chào)\b", re.IGNORECASE
)
# A candidate must earn at least one full unshared word, and several intents must each be
# comparable with the best one, so an incidental word does not become a second intent.
_STRONG_SCORE = 1.0
# A streamed word keeps the whitespace before it, so the chunks join back into the reply.
_WORDS = re.compile(r"\s*\S+|\s+$")
_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
# Where one request ends and another begins: each clause routes to at most one agent, so words
# qualifying a single request ("shipments of customer MST ...") never fan it out.
_CLAUSE_BREAK = re.compile(
    r"[,;]|\s+(?:and|also|plus|as well as|then|và|cùng với|rồi)\s+|\s&\s", re.IGNORECASE
)


@dataclass(frozen=True)
class _Tool:
    name: str
    description: str
    parameters: dict[str, Any]

    @property
    def agent(self) -> str:
        return self.name.removeprefix(HANDOFF_PREFIX)

    @property
    def is_handoff(self) -> bool:
        return self.name.startswith(HANDOFF_PREFIX)


class OfflineChatModel(BaseChatModel):
    """Deterministic, offline stand-in for a tool-calling chat model."""

    model_name: str = OFFLINE_PROVIDER

    @property
    def _llm_type(self) -> str:
        return OFFLINE_PROVIDER

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools = [_parse_tool(t) for t in kwargs.get("tools") or ()]
        content, calls = _respond(messages, tools)
        tool_calls = [
            ToolCall(name=name, args=args, id=_call_id(messages, index), type="tool_call")
            for index, (name, args) in enumerate(calls)
        ]
        message = AIMessage(
            content=content,
            tool_calls=tool_calls,
            usage_metadata=_usage(messages, content, tool_calls),
            response_metadata={"model_name": self.model_name, "model_provider": OFFLINE_PROVIDER},
        )
        return ChatResult(
            generations=[ChatGeneration(message=message)],
            llm_output={"model_name": self.model_name},
        )

    # --- streaming (issue 12): the same reply, word by word -----------------------------------

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """The reply `_generate` would give, as chunks: each word with its leading space, then
        the tool calls, usage and metadata in a last chunk (what providers' streams look like)."""
        message = self._generate(messages, stop, run_manager, **kwargs).generations[0].message
        assert isinstance(message, AIMessage)
        for word in _WORDS.findall(str(message.content)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word))
        calls = [
            tool_call_chunk(
                name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=index
            )
            for index, call in enumerate(message.tool_calls)
        ]
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                tool_call_chunks=calls,
                usage_metadata=message.usage_metadata,
                response_metadata=message.response_metadata,
                chunk_position="last",
            )
        )


# ----------------------------------------------------------------------------- roles

Calls = list[tuple[str, dict[str, Any]]]


def _respond(messages: Sequence[BaseMessage], tools: Sequence[_Tool]) -> tuple[str, Calls]:
    handoffs = [t for t in tools if t.is_handoff]
    system = "\n".join(_text(m) for m in messages if isinstance(m, SystemMessage))
    if handoffs or not (tools or _FORMAT_NAME.search(system)):
        return _supervise(messages, handoffs)
    return _act(messages, tools, system)


def _supervise(messages: Sequence[BaseMessage], agents: Sequence[_Tool]) -> tuple[str, Calls]:
    last = messages[-1] if messages else None
    if not isinstance(last, HumanMessage):
        # Back from a handoff (or after an answer): never route the same request twice.
        return marked(_after_handoff(last)), []
    request = _text(last)
    vocabularies = [vocabulary([t.agent, t.description]) for t in agents]
    chosen: list[Match] = []
    for clause in _CLAUSE_BREAK.split(request):
        best = _best_agent(clause, vocabularies)
        if best is not None and best.index not in {m.index for m in chosen}:
            chosen.append(best)
    if chosen:
        return "", [
            (
                agents[m.index].name,
                {"reason": f"the request mentions {', '.join(m.matched)}"},
            )
            for m in chosen
        ]
    listing = "\n".join(f"- {t.agent}: {_agent_description(t)}" for t in agents)
    if not agents:
        listing = "- nothing yet: no agents are enabled"
    if _HELP.search(request):
        return marked(f"I can help with these requests:\n{listing}"), []
    if _GREETING.search(request):
        return marked(f"Hello! I am the offline demo assistant. I can help with:\n{listing}"), []
    return marked(f"Sorry, I cannot help with that. I can help with:\n{listing}"), []


def _best_agent(clause: str, vocabularies: Sequence[frozenset[str]]) -> Match | None:
    """The one agent a clause asks for: the best strong match (ties: the first agent), else a
    weak match only when no other agent scores as well."""
    matches = rank(clause, vocabularies)
    strong = [m for m in matches if m.score >= _STRONG_SCORE]
    if strong:
        top = max(m.score for m in strong)
        return next(m for m in strong if m.score == top)
    best = max(matches, key=lambda m: m.score, default=None)
    tied = [m for m in matches if best and m.score == best.score]
    return best if best and best.score > 0 and len(tied) == 1 else None


def _act(messages: Sequence[BaseMessage], tools: Sequence[_Tool], system: str) -> tuple[str, Calls]:
    format_name, schema = _output_format(system)
    by_name = {t.name: t for t in tools}
    last = messages[-1] if messages else None
    if isinstance(last, ToolMessage):
        call = _call_for(messages, last.tool_call_id)
        tool = by_name.get(call["name"] if call else (last.name or ""))
        if tool is not None:
            return _answer(last, tool, call["args"] if call else {}, format_name, schema), []
    request = _text(_last_human(messages))
    if not tools:
        return json_answer("I have no tools to answer this request.", None), []
    choice = _choose_tool(request, tools)
    if choice is None:
        offered = "; ".join(t.description or humanize(t.name) for t in tools)
        return json_answer(f"I can help with: {offered}. What do you need?", None), []
    tool, filled = choice
    if filled.problems:  # an MST read from an invoice earlier in the conversation, say
        filled = fill_from_conversation(tool.parameters, filled, messages)
    if filled.problems:
        filled = recall_arguments(tool.parameters, filled, _earlier_requests(messages))
    if filled.problems:
        asks = [
            f"a valid {_without_article(p.description)}"
            + (f" (e.g. {p.example})" if p.example else "")
            for p in filled.problems
        ]
        return json_answer(f"Please provide {' and '.join(asks)}.", None), []
    return "", [(tool.name, filled.args)]


def _choose_tool(request: str, tools: Sequence[_Tool]) -> tuple[_Tool, FilledArguments] | None:
    filled = [fill_arguments(t.parameters, request) for t in tools]
    vocabularies = [vocabulary([t.name, t.description, *_argument_texts(t)]) for t in tools]
    matches = rank(request, vocabularies)
    # A value that fits an argument's pattern (an MST, a tracking id) is the strongest cue.
    scores = [m.score + 2 * f.pattern_hits for m, f in zip(matches, filled, strict=True)]
    best = max(range(len(tools)), key=lambda i: scores[i])  # ties: the higher-priority tool
    if scores[best] <= 0 and len(tools) > 1:
        return None
    return tools[best], filled[best]


def _answer(
    result: ToolMessage,
    tool: _Tool,
    args: dict[str, Any],
    format_name: str,
    schema: dict[str, Any] | None,
) -> str:
    parsed = parse_result(_text(result))
    error = error_of(parsed)
    if error is not None:
        return json_answer(explain_error(error, tool_description=tool.description, args=args), None)
    if result.status == "error":
        return json_answer(
            f"The {humanize_inline(tool.name)} tool failed, so I cannot answer right now.", None
        )
    text, data = answer_from_result(parsed, format_name=format_name, schema=schema)
    return json_answer(text, data)


# ----------------------------------------------------------------------------- helpers


def _parse_tool(raw: dict[str, Any]) -> _Tool:
    function = raw.get("function", raw)
    return _Tool(
        name=str(function.get("name", "")),
        description=str(function.get("description") or ""),
        parameters=dict(function.get("parameters") or {}),
    )


def _agent_description(tool: _Tool) -> str:
    worded = _HANDOFF_WORDING.match(tool.description)
    return worded.group("description") if worded else tool.description


def _after_handoff(last: BaseMessage | None) -> str:
    if not isinstance(last, ToolMessage) or not (last.name or "").startswith(HANDOFF_PREFIX):
        return "Done."
    agent = (last.name or "").removeprefix(HANDOFF_PREFIX)
    if last.status == "error":
        return f"I could not hand your request over to the {agent} agent; please try again."
    return f"Handed over to the {agent} agent."


def _argument_texts(tool: _Tool) -> list[str]:
    properties = tool.parameters.get("properties") or {}
    return [f"{name} {spec.get('description', '')}" for name, spec in properties.items()]


def _output_format(system: str) -> tuple[str, dict[str, Any] | None]:
    named = _FORMAT_NAME.search(system)
    name = named.group("name") if named else "text"
    schema_line = _FORMAT_SCHEMA.search(system[named.end() :] if named else system)
    schema = None
    if schema_line:
        try:
            loaded = json.loads(schema_line.group("schema"))
            schema = loaded if isinstance(loaded, dict) else None
        except ValueError:
            schema = None
    return name, schema


def _call_for(messages: Sequence[BaseMessage], tool_call_id: str) -> ToolCall | None:
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("id") == tool_call_id:
                    return call
    return None


def _earlier_requests(messages: Sequence[BaseMessage]) -> list[str]:
    """The user's messages before the last one, latest first."""
    humans = [_text(m) for m in messages if isinstance(m, HumanMessage)]
    return list(reversed(humans[:-1]))


def _without_article(description: str) -> str:
    """ "the customer's MST" -> "customer's MST": it follows "a valid"."""
    return _ARTICLE.sub("", description, count=1)


def _last_human(messages: Sequence[BaseMessage]) -> BaseMessage | None:
    return next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)


def _text(message: BaseMessage | None) -> str:
    return "" if message is None else str(message.text)


def _call_id(messages: Sequence[BaseMessage], index: int) -> str:
    # Deterministic, and distinct between turns because the transcript grows.
    digest = hashlib.sha256()
    for message in messages:
        digest.update(message.type.encode())
        digest.update(_text(message).encode())
    return f"call_offline_{digest.hexdigest()[:16]}_{index}"


def _usage(
    messages: Sequence[BaseMessage], content: str, calls: Sequence[ToolCall]
) -> UsageMetadata:
    """About four characters a token, like the real models' tokenizers on English text."""
    seen = sum(len(_text(m)) + _calls_length(getattr(m, "tool_calls", ())) for m in messages)
    written = len(content) + _calls_length(calls)
    input_tokens = max(1, math.ceil(seen / 4))
    output_tokens = max(1, math.ceil(written / 4))
    return UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )


def _calls_length(calls: Sequence[ToolCall]) -> int:
    return sum(len(call["name"]) + len(json.dumps(call["args"])) for call in calls)
