"""A tenant's turn graph on the offline model, with no agents: the supervisor answers every
message itself. For tests of what a turn leaves in the checkpointer."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from agenthub.agents.graph import build_turn_graph
from agenthub.domain import LlmSpec, TenantRuntimeConfig
from agenthub.llm.offline import OfflineChatModel


def offline_turn_graph(checkpointer: BaseCheckpointSaver[Any], *, tenant_id: str = "acme") -> Any:
    tenant = TenantRuntimeConfig(
        tenant_id=tenant_id,
        tenant_name=tenant_id.upper(),
        config_version=1,
        llm=LlmSpec(provider="offline", model_name="offline"),
    )
    return build_turn_graph(
        tenant,
        model_for=lambda spec: OfflineChatModel(),
        tools_for=lambda specs: [],
        checkpointer=checkpointer,
    )
