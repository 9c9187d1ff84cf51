"""Plain domain objects: a tenant's runtime configuration, as the agents and tools consume it.

No I/O here. These are pydantic models so the config cache can store them as JSON. Secrets stay
encrypted (Fernet tokens) inside them: they are decrypted only in memory, where they are used.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr

ToolTypeName = Literal["HTTP_GET", "HTTP_POST", "RAG", "DB_QUERY", "OCR"]
MultiIntentPolicyName = Literal["reject", "parallel"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class LlmSpec(_Frozen):
    provider: (
        str  # offline | openai | openrouter | openai_compatible | bedrock | anthropic | google
    )
    model_name: str
    encrypted_api_key: str | None = None
    base_url: str | None = None
    temperature: float = 0.0
    max_tokens: int = 1024
    input_price_per_1k: Decimal = Decimal("0")
    output_price_per_1k: Decimal = Decimal("0")
    extra: dict[str, Any] = {}


class OutputFormatSpec(_Frozen):
    name: str
    renderer_hint: str
    json_schema: dict[str, Any] = {}
    description: str = ""


class ToolSpec(_Frozen):
    id: uuid.UUID
    name: str
    description: str
    type: ToolTypeName
    input_schema: dict[str, Any]
    config: dict[str, Any] = {}
    # The tenant's credential for auth_mode `tenant_secret`, still encrypted.
    encrypted_secret: str | None = None
    # DB_QUERY: the URL of the tenant's data source named by `config.data_source`, encrypted.
    encrypted_data_source_url: str | None = None


class AgentSpec(_Frozen):
    id: uuid.UUID
    name: str
    display_name: str
    description: str
    system_prompt: str
    output_format: OutputFormatSpec
    llm: LlmSpec | None = None  # None: the tenant's model
    tools: tuple[ToolSpec, ...] = ()


class TenantRuntimeConfig(_Frozen):
    tenant_id: str
    tenant_name: str
    config_version: int
    multi_intent_policy: MultiIntentPolicyName = "reject"
    memory_max_tokens: int = 2000
    rate_limit_per_minute: int = 60
    llm: LlmSpec
    agents: tuple[AgentSpec, ...] = ()

    def agent(self, name: str) -> AgentSpec | None:
        return next((a for a in self.agents if a.name == name), None)


@dataclass(frozen=True)
class Attachment:
    """A file the user sent with the message (an upload of theirs, checked and ready)."""

    upload_id: str
    filename: str
    content_type: str
    size: int
    # Where it is stored: a key under the tenant's prefix in the files bucket.
    object_key: str = field(repr=False)


@dataclass(frozen=True)
class ToolContext:
    """Who is calling, for tools: reaches them through RunnableConfig, never the model's schema."""

    tenant_id: str
    user_id: str
    user_jwt: SecretStr = field(repr=False)
    session_id: str = ""
    request_id: str = ""
    # The files sent with this turn's message (read by the OCR tool, never model arguments).
    attachments: tuple[Attachment, ...] = ()


# Key under RunnableConfig["configurable"] that carries the ToolContext.
TOOL_CONTEXT_KEY = "agenthub_tool_context"
# Keys under RunnableConfig["configurable"] of list-like collectors (anything with `append` /
# `extend`): per-call tool metrics, and the citations knowledge tools return.
TOOL_CALLS_KEY = "agenthub_tool_calls"
CITATIONS_KEY = "agenthub_citations"
