"""The guards around one turn: the deadline, and compiled graphs reused per config version."""

from __future__ import annotations

import uuid

import pytest

from agenthub.agents.runtime import DeadlineGuard, GraphCache, TurnTimeoutError
from agenthub.domain import LlmSpec, TenantRuntimeConfig


def _config(tenant: str, version: int) -> TenantRuntimeConfig:
    return TenantRuntimeConfig(
        tenant_id=tenant,
        tenant_name=tenant,
        config_version=version,
        llm=LlmSpec(provider="offline", model_name="offline"),
    )


def test_no_model_or_tool_call_starts_after_the_deadline() -> None:
    guard = DeadlineGuard(timeout_s=30)
    run = uuid.uuid4()
    guard.on_chat_model_start({}, [], run_id=run)  # within the deadline: nothing happens

    guard.deadline -= 31
    with pytest.raises(TurnTimeoutError, match="longer than 30 s"):
        guard.on_chat_model_start({}, [], run_id=run)
    with pytest.raises(TurnTimeoutError):
        guard.on_tool_start({}, "", run_id=run)
    with pytest.raises(TurnTimeoutError):
        guard.on_llm_start({}, [], run_id=run)
    assert guard.raise_error  # so LangChain lets the error stop the graph


def test_graphs_are_built_once_per_tenant_and_version() -> None:
    built: list[tuple[str, int]] = []
    cache = GraphCache(lambda c: built.append((c.tenant_id, c.config_version)) or object())

    first = cache.get(_config("acme", 1))
    assert cache.get(_config("acme", 1)) is first
    second = cache.get(_config("acme", 2))
    cache.get(_config("globex", 1))

    assert second is not first
    assert built == [("acme", 1), ("acme", 2), ("globex", 1)]
    assert len(cache) == 2  # acme's version 1 was dropped when version 2 came


def test_the_graph_cache_is_bounded() -> None:
    cache = GraphCache(lambda c: object(), max_entries=2)

    for tenant in ("a1", "b1", "c1"):
        cache.get(_config(tenant, 1))

    assert len(cache) == 2
