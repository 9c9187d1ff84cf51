"""A model for the fake OpenAI server that acts on the demo agents the way a real model would.

`ScriptedModel` is a `FakeOpenAIServer` responder. It reads each request like a model does:
- offered `transfer_to_<agent>` tools (the supervisor): hand off by keyword, one call per intent
  found in the user's message, or answer itself when no offered agent fits;
- offered a domain tool and no tool result yet (a domain agent): call the tool with arguments
  taken from the user's message, or ask for a valid MST / tracking id when it is malformed;
- after a tool result that says the call was malformed or unknown: call again, correctly;
- after a tool result: answer `{"text": ..., "data": <card>}` built from that result, or a
  clear not-found answer when the tool reported an error.
Token counts are fixed per kind of reply, so a turn's cost is known exactly.

`use_fake_provider` points a tenant at such a server (an `openai_compatible` model, the key
encrypted with the keyring) and bumps the tenant's config version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tests.support.fake_openai import FakeReply, ToolCall

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agenthub.crypto import KeyRing

DEBT_TOOL = "get_customer_debt_by_mst"
SHIPMENT_TOOL = "track_shipment"
HANDOFF_PREFIX = "transfer_to_"
ANSWER_TOOL = "final_answer"  # agenthub.agents.output.ANSWER_TOOL (structured output)
FAKE_MODEL = "gpt-fake"

# (input tokens, output tokens) the fake reports for each kind of reply.
ROUTE_USAGE = (100, 10)
TOOL_CALL_USAGE = (200, 20)
ANSWER_USAGE = (300, 30)

ASK_FOR_MST = "Please send a valid MST (tax code): 10 digits, or 10 digits and a 3-digit branch."
ASK_FOR_TRACKING_ID = "Please send a valid tracking id, like SHP-1001."
NOT_FOUND = "I could not find that record: the system answered {status}."
NO_TOOL = "I have no tool that can answer this here."

_KEYWORDS = {"debt": ("debt", "mst", "owe"), "shipment": ("shipment", "track", "shp-")}
_MST_ARGUMENT = re.compile(r"\bMST\s*:?\s*([^\s,;?!]+)", re.IGNORECASE)
_MST = re.compile(r"^[0-9]{10}(-[0-9]{3})?$")
_TRACKING_ARGUMENT = re.compile(r"\b(SHP-[^\s,;?!]*)", re.IGNORECASE)
_TRACKING_ID = re.compile(r"^SHP-[0-9]{4,}$")


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def _offered(body: Mapping[str, Any]) -> list[str]:
    return [tool["function"]["name"] for tool in body.get("tools") or []]


@dataclass
class ScriptedModel:
    """A `FakeOpenAIServer` responder that routes, calls tools and answers like a model."""

    def __call__(self, body: dict[str, Any]) -> FakeReply:
        messages: list[dict[str, Any]] = list(body.get("messages") or [])
        # A note from the agent loop (e.g. "your reply was empty") is not the user's question.
        last_user = max(
            (
                i
                for i, m in enumerate(messages)
                if m.get("role") == "user" and m.get("name") != "agenthub"
            ),
            default=-1,
        )
        question = _text(messages[last_user]["content"]) if last_user >= 0 else ""
        offered = _offered(body)
        handoffs = [name for name in offered if name.startswith(HANDOFF_PREFIX)]
        if handoffs:
            return self.route(question, handoffs)
        structured = ANSWER_TOOL in offered
        results = [m for m in messages[last_user + 1 :] if m.get("role") == "tool"]
        if results and not _corrected(_text(results[-1]["content"])):
            return _as(self.answer(_text(results[-1]["content"])), structured)
        return _as(self.act(question, offered), structured)

    def route(self, question: str, handoffs: Sequence[str]) -> FakeReply:
        lowered = question.lower()
        calls = [
            ToolCall(name, {"reason": f"the user asks about {agent}"})
            for agent, words in _KEYWORDS.items()
            if (name := HANDOFF_PREFIX + agent) in handoffs and any(w in lowered for w in words)
        ]
        if calls:
            return _usage(FakeReply.tool_calls(*calls), ROUTE_USAGE)
        agents = ", ".join(name.removeprefix(HANDOFF_PREFIX) for name in handoffs)
        return _usage(FakeReply.text(f"Hello! I can help with: {agents}."), ROUTE_USAGE)

    def act(self, question: str, offered: Sequence[str]) -> FakeReply:
        if DEBT_TOOL in offered:
            found = _MST_ARGUMENT.search(question)
            mst = found.group(1) if found else ""
            if not _MST.match(mst):
                return _answer(ASK_FOR_MST, None)
            return _usage(FakeReply.tool_call(DEBT_TOOL, {"mst": mst}), TOOL_CALL_USAGE)
        if SHIPMENT_TOOL in offered:
            found = _TRACKING_ARGUMENT.search(question)
            tracking_id = found.group(1).upper() if found else ""
            if not _TRACKING_ID.match(tracking_id):
                return _answer(ASK_FOR_TRACKING_ID, None)
            call = FakeReply.tool_call(SHIPMENT_TOOL, {"tracking_id": tracking_id})
            return _usage(call, TOOL_CALL_USAGE)
        return _answer(NO_TOOL, None)

    def answer(self, tool_result: str) -> FakeReply:
        result = json.loads(tool_result)
        if "error" in result:
            return _answer(NOT_FOUND.format(status=result["error"].get("status")), None)
        if "total_debt" in result:
            text = f"{result['customer_name']} owes {result['total_debt']} {result['currency']}."
            title = str(result["customer_name"])
        else:
            text = f"Shipment {result['tracking_id']} is {result['status']}."
            title = f"Shipment {result['tracking_id']}"
        fields = [
            {"label": key.replace("_", " ").capitalize(), "value": value}
            for key, value in result.items()
            if value is None or isinstance(value, str | int | float)
        ]
        return _answer(text, {"title": title, "fields": fields})


def _corrected(tool_result: str) -> bool:
    """The tool result says the call itself was wrong: a model calls again, correctly."""
    try:
        error = json.loads(tool_result).get("error") or {}
    except (ValueError, AttributeError):
        return False
    return error.get("type") in ("bad_arguments", "unknown_tool")


def _as(reply: FakeReply, structured: bool) -> FakeReply:
    """With structured output (the answer tool offered), an answer is a call of that tool."""
    if not structured or reply.calls or reply.content is None:
        return reply
    return replace(reply, content=None, calls=(ToolCall(ANSWER_TOOL, reply.content),))


def _answer(text: str, data: dict[str, Any] | None) -> FakeReply:
    content = json.dumps({"text": text, "data": data}, ensure_ascii=False)
    return _usage(FakeReply.text(content), ANSWER_USAGE)


def _usage(reply: FakeReply, usage: tuple[int, int]) -> FakeReply:
    return replace(reply, prompt_tokens=usage[0], completion_tokens=usage[1])


def use_fake_provider(
    db: Session,
    *,
    tenant_id: str,
    keyring: KeyRing,
    base_url: str,
    api_key: str,
    model_name: str = FAKE_MODEL,
    input_price_per_1k: Decimal = Decimal("0.001"),
    output_price_per_1k: Decimal = Decimal("0.002"),
) -> None:
    """Point the tenant's LLM config at an OpenAI-compatible server, as an admin would."""
    from agenthub.crypto import mask_secret
    from agenthub.repositories import (
        LlmModelRepository,
        TenantLlmConfigRepository,
        TenantRepository,
    )

    model = LlmModelRepository(db).upsert(
        provider="openai_compatible",
        model_name=model_name,
        display_name=f"{model_name} (fake provider)",
        input_price_per_1k=input_price_per_1k,
        output_price_per_1k=output_price_per_1k,
        context_window=128_000,
    )
    TenantLlmConfigRepository(db).upsert(
        tenant_id=tenant_id,
        llm_model_id=model.id,
        encrypted_api_key=keyring.encrypt(api_key),
        api_key_hint=mask_secret(api_key),
        base_url=base_url,
        temperature=Decimal("0"),
        max_tokens=1024,
    )
    TenantRepository(db).bump_config_version(tenant_id=tenant_id)
