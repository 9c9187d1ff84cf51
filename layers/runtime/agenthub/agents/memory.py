"""Conversation memory: thread ids for the checkpointer and the sliding window the models see."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, trim_messages
from langchain_core.messages.utils import count_tokens_approximately


def thread_id(*, tenant_id: str, user_id: str, session_id: str) -> str:
    """One LangGraph thread per (tenant, user, session): users and tenants never share one."""
    return f"tenant_{tenant_id}__user_{user_id}__session_{session_id}"


def transcript(messages: Sequence[AnyMessage]) -> list[AnyMessage]:
    """The user-visible conversation: user messages and final answers, no tool traffic."""
    return [
        m
        for m in messages
        if isinstance(m, HumanMessage) or (isinstance(m, AIMessage) and not m.tool_calls)
    ]


def window(messages: Sequence[AnyMessage], *, max_tokens: int) -> list[AnyMessage]:
    """The newest messages that fit `max_tokens`, starting on a user message."""
    visible = transcript(messages)
    if (
        visible
        and isinstance(visible[0], HumanMessage)
        and count_tokens_approximately(visible) <= max_tokens
    ):
        # It all fits (most conversations): what trim_messages would return, without its cost
        # (it inspects the counter's signature on every call; twice a turn).
        return visible
    trimmed: list[AnyMessage] = trim_messages(  # type: ignore[assignment]
        visible,
        max_tokens=max_tokens,
        strategy="last",
        token_counter=count_tokens_approximately,
        start_on="human",
        allow_partial=False,
    )
    if not trimmed and messages:
        # The latest user message alone is over budget: still send it (the model must see it).
        last_human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        return [last_human] if last_human is not None else []
    return trimmed
