"""Token usage and cost of one turn, collected from LangChain callbacks.

Pass a `UsageCollector` in `config={"callbacks": [collector]}`: LangGraph hands the callbacks to
every nested graph and model call, so the supervisor's and every agent's calls are all counted.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import ChatGeneration, LLMResult

UNKNOWN_MODEL = "unknown"
_THOUSAND = Decimal(1000)

# model name -> (USD per 1k input tokens, USD per 1k output tokens)
Prices = Mapping[str, tuple[Decimal, Decimal]]


@dataclass(frozen=True)
class LlmCall:
    model_name: str
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)


def cost_of(model_name: str, input_tokens: int, output_tokens: int, prices: Prices) -> Decimal:
    """Priced by exact name, else by the longest priced name the model's name starts with
    (providers report dated names: `gpt-4o-mini-2024-07-18` for `gpt-4o-mini`). Unknown: 0."""
    price = prices.get(model_name)
    if price is None:
        prefixes = [name for name in prices if name and model_name.startswith(name)]
        price = prices[max(prefixes, key=len)] if prefixes else None
    if price is None:
        return Decimal(0)
    input_price, output_price = price
    return (Decimal(input_tokens) * input_price + Decimal(output_tokens) * output_price) / _THOUSAND


class UsageCollector(BaseCallbackHandler):
    """Records one `LlmCall` per model call; safe to share between threads (parallel agents)."""

    run_inline = True  # also called inline from async runs: the lock is all it needs
    # Only `on_llm_end` matters. Without these, every graph, node and tool of a turn calls
    # this handler, and every model call turns its whole prompt into text for `on_llm_start`
    # (LangChain's fallback for a handler without `on_chat_model_start`).
    ignore_chat_model = True
    ignore_chain = True
    ignore_agent = True
    ignore_retriever = True
    ignore_custom_event = True
    ignore_retry = True

    def __init__(self, prices: Prices | None = None) -> None:
        super().__init__()
        self._prices: Prices = dict(prices or {})
        self._calls: list[LlmCall] = []
        self._lock = threading.Lock()

    def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        call = self._call_from(response)
        with self._lock:
            self._calls.append(call)

    @property
    def calls(self) -> list[LlmCall]:
        with self._lock:
            return list(self._calls)

    def totals(self) -> Usage:
        calls = self.calls
        return Usage(
            input_tokens=sum(c.input_tokens for c in calls),
            output_tokens=sum(c.output_tokens for c in calls),
            cost_usd=sum((c.cost_usd for c in calls), Decimal(0)),
        )

    def _call_from(self, response: LLMResult) -> LlmCall:
        llm_output = response.llm_output or {}
        first = response.generations[0] if response.generations else []
        generation = first[0] if first else None
        message = generation.message if isinstance(generation, ChatGeneration) else None
        metadata = message.response_metadata if message is not None else {}
        model_name = str(
            metadata.get("model_name")
            or llm_output.get("model_name")
            or metadata.get("model_id")
            or llm_output.get("model_id")
            or UNKNOWN_MODEL
        )
        usage = getattr(message, "usage_metadata", None)
        if usage:
            input_tokens, output_tokens = usage["input_tokens"], usage["output_tokens"]
        else:  # older integrations report OpenAI-style totals in llm_output only
            token_usage = llm_output.get("token_usage") or llm_output.get("usage") or {}
            input_tokens = int(token_usage.get("prompt_tokens", token_usage.get("input_tokens", 0)))
            output_tokens = int(
                token_usage.get("completion_tokens", token_usage.get("output_tokens", 0))
            )
        return LlmCall(
            model_name=model_name,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost_of(model_name, input_tokens, output_tokens, self._prices),
        )
