"""RAG tools: search one of the calling tenant's knowledge bases, answer with cited chunks.

Config (`ToolSpec.config`):
    knowledge_base  the knowledge base's *name*; resolved in the calling tenant at run time, so
                    a global tool serves each tenant from its own knowledge base of that name and
                    can never reach another tenant's
    top_k           1-10 chunks (default 4)
    min_score       0-1, cosine similarity below which a chunk is left out (default 0)
    filters         optional metadata equality: {"document_id": [...], "title": ..., ...}

The input schema needs a string argument `query` (the model writes the search). The result is
`{"knowledge_base", "results": [{document_id, title, score, text}]}`; each result also becomes a
citation `{document_id, title, snippet, score}` of the turn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agenthub.domain import ToolContext, ToolSpec
from agenthub.errors import (
    AgentHubError,
    NotFoundError,
    ServiceUnavailableError,
    UpstreamError,
    ValidationFailedError,
)
from agenthub.tools.base import CallResult, ToolFailure, compact_json, runtime_tool
from agenthub.tools.schema import json_schema_to_model

SNIPPET_CHARS = 300
_FILTERABLE = frozenset({"document_id", "title", "content_type"})

Scalar = str | int | float | bool

# The knowledge base name rule of agenthub.db.models (its check constraint), repeated here so
# that the chat path does not import SQLAlchemy for it (tests/unit/test_rag_tool.py compares).
KNOWLEDGE_BASE_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"


class Hit(Protocol):
    @property
    def document_id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def score(self) -> float: ...


class KnowledgeSearchPort(Protocol):
    def search(
        self,
        *,
        tenant_id: str,
        knowledge_base: str,
        query: str,
        top_k: int,
        min_score: float = 0.0,
        filters: Mapping[str, Any] | None = None,
    ) -> Sequence[Hit]: ...


KnowledgeFactory = Callable[[], KnowledgeSearchPort]


class RagToolConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    knowledge_base: str = Field(pattern=KNOWLEDGE_BASE_NAME_PATTERN)
    top_k: int = Field(default=4, ge=1, le=10)
    min_score: float = Field(default=0.0, ge=0.0, le=1.0)
    filters: dict[str, Scalar | list[Scalar]] | None = None

    @field_validator("filters")
    @classmethod
    def _known_fields(
        cls, value: dict[str, Scalar | list[Scalar]] | None
    ) -> dict[str, Scalar | list[Scalar]] | None:
        unknown = sorted(set(value or {}) - _FILTERABLE)
        if unknown:
            raise ValueError(f"cannot filter on {', '.join(unknown)} (use {sorted(_FILTERABLE)})")
        return value


def parse_rag_config(config: dict[str, Any], input_schema: dict[str, Any] | None) -> RagToolConfig:
    """The config, or ValidationFailedError naming the field."""
    try:
        parsed = RagToolConfig.model_validate(config)
    except ValidationError as exc:
        problems = [
            {"field": "config." + ".".join(map(str, e["loc"])), "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise ValidationFailedError(
            "invalid input: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems),
            details=problems,
        ) from exc
    if input_schema is not None:
        query = (input_schema.get("properties") or {}).get("query")
        if not isinstance(query, dict) or query.get("type") != "string":
            raise ValidationFailedError(
                "invalid input: input_schema: a RAG tool needs a string argument `query`",
                details=[{"field": "input_schema.properties.query", "message": "required string"}],
            )
    return parsed


def build_rag_tool(spec: ToolSpec, *, knowledge: KnowledgeFactory | None) -> BaseTool:
    config = parse_rag_config(spec.config, spec.input_schema)
    args_model = json_schema_to_model(spec.name, spec.input_schema)

    def execute(arguments: dict[str, Any], context: ToolContext) -> CallResult:
        query = str(arguments.get("query") or "").strip()
        if not query:
            raise ToolFailure("bad_arguments", "say what to search for (query)")
        if knowledge is None:
            raise ToolFailure("configuration", "knowledge search is not configured here")
        try:
            hits = knowledge().search(
                tenant_id=context.tenant_id,
                knowledge_base=config.knowledge_base,
                query=query,
                top_k=config.top_k,
                min_score=config.min_score,
                filters=config.filters,
            )
        except NotFoundError as exc:
            raise ToolFailure("configuration", exc.message, status=404) from exc
        except (ServiceUnavailableError, UpstreamError) as exc:
            raise ToolFailure(
                "network", "the knowledge base is unavailable right now", status=503
            ) from exc
        except AgentHubError as exc:
            raise ToolFailure("configuration", exc.message) from exc
        results = [
            {
                "document_id": h.document_id,
                "title": h.title,
                "score": round(float(h.score), 4),
                "text": h.text,
            }
            for h in hits
        ]
        citations = tuple(
            {
                "document_id": h.document_id,
                "title": h.title,
                "snippet": _snippet(h.text),
                "score": round(float(h.score), 4),
            }
            for h in hits
        )
        content = compact_json({"knowledge_base": config.knowledge_base, "results": results})
        return CallResult(content=content, citations=citations)

    return runtime_tool(
        tool_id=str(spec.id),
        name=spec.name,
        description=spec.description,
        args_model=args_model,
        execute=execute,
    )


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rstrip() + "…"
