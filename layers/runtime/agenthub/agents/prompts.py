"""Prompt text the graph writes around the configured agent prompts."""

from __future__ import annotations

from collections.abc import Sequence

from agenthub.domain import AgentSpec


def handoff_tool_name(agent_name: str) -> str:
    return f"transfer_to_{agent_name}"


def supervisor_prompt(*, tenant_name: str, agents: Sequence[AgentSpec]) -> str:
    listing = "\n".join(f"- {a.name} ({a.display_name}): {a.description}" for a in agents)
    if not listing:
        listing = "- (no agents are enabled for this organisation)"
    return (
        f"You are the supervisor of {tenant_name}'s business assistant.\n"
        "Route each user request to the one agent below that can answer it, by calling that "
        "agent's transfer tool with a short reason. If a message holds several separate "
        "requests for different agents, call one transfer tool per request.\n"
        "Answer by yourself only for greetings, for questions about what you can do (then list "
        "the agents below), and for requests that no agent covers (say so and list what you can "
        "do). Never answer a business question yourself.\n"
        f"Agents:\n{listing}"
    )


def reject_multi_intent_message(agents: Sequence[AgentSpec]) -> str:
    named = "; ".join(f"{a.display_name} ({a.description})" for a in agents)
    return (
        f"Your message contains {len(agents)} separate requests: {named}. "
        "I can handle one request at a time - please send them one by one."
    )
