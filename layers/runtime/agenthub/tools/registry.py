"""Tools built at runtime from their stored specs: one builder per tool type.

HTTP_GET, HTTP_POST, RAG, DB_QUERY and OCR each have a builder in `BUILDERS`, taking what they
need from `ToolDependencies`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from langchain_core.tools import BaseTool

from agenthub.domain import ToolSpec
from agenthub.errors import AgentHubError, ValidationFailedError
from agenthub.tools.base import TOOL_NAME
from agenthub.tools.http import Decrypt, HttpClientFactory, build_http_tool
from agenthub.tools.rag import KnowledgeFactory, build_rag_tool

if TYPE_CHECKING:
    from agenthub.tools.db_pools import DataSourcePools
    from agenthub.tools.ocr import DocumentDependencies


@dataclass(frozen=True)
class ToolDependencies:
    """What builders take from outside (clients, the decryptor, settings values), built by the
    composition root; each new tool type adds its own."""

    http_client_factory: HttpClientFactory  # the SSRF-guarded client
    decrypt: Decrypt  # a tenant secret's stored token -> the secret, for one call
    default_timeout_s: float = 8.0  # settings.tools.default_timeout_s
    max_response_bytes: int = 256_000  # settings.tools.max_response_bytes
    # DB_QUERY: the per-container pools of tenant data sources (composition root's).
    data_source_pools: DataSourcePools | None = None
    # OCR tools: the file store and the engine, built lazily (None: OCR tools unavailable).
    documents: DocumentDependencies | None = None
    # RAG: the knowledge search (built on first use: Chroma and embeddings are not cheap).
    knowledge: KnowledgeFactory | None = None


ToolBuilder = Callable[[ToolSpec, ToolDependencies], BaseTool]


def _http_tool(spec: ToolSpec, deps: ToolDependencies) -> BaseTool:
    return build_http_tool(
        spec,
        http_client_factory=deps.http_client_factory,
        decrypt=deps.decrypt,
        default_timeout_s=deps.default_timeout_s,
        max_response_bytes=deps.max_response_bytes,
    )


def _rag_tool(spec: ToolSpec, deps: ToolDependencies) -> BaseTool:
    return build_rag_tool(spec, knowledge=deps.knowledge)


def _ocr_tool(spec: ToolSpec, deps: ToolDependencies) -> BaseTool:
    from agenthub.tools.ocr import build_ocr_tool

    if deps.documents is None:
        raise ValidationFailedError(
            "OCR tools need the file store and an OCR engine, which are not configured",
            details=[{"field": "type", "message": "OCR is not configured here"}],
        )
    return build_ocr_tool(spec, documents=deps.documents)


def _db_query_tool(spec: ToolSpec, deps: ToolDependencies) -> BaseTool:
    from agenthub.tools.db_query import build_db_query_tool

    return build_db_query_tool(spec, pools=deps.data_source_pools)


BUILDERS: dict[str, ToolBuilder] = {
    "HTTP_GET": _http_tool,
    "HTTP_POST": _http_tool,
    "DB_QUERY": _db_query_tool,
    "OCR": _ocr_tool,
    "RAG": _rag_tool,
}


def build_tool(spec: ToolSpec, deps: ToolDependencies) -> BaseTool:
    """The LangChain tool for one spec; ValidationFailedError when it cannot be built."""
    builder = BUILDERS.get(spec.type)
    if builder is None:
        raise ValidationFailedError(
            f"tool type {spec.type} is not available yet",
            details=[{"field": "type", "message": f"{spec.type} tools are not available yet"}],
        )
    if not TOOL_NAME.fullmatch(spec.name):
        raise ValidationFailedError(
            f"tool name {spec.name!r} must be 1-64 letters, digits, '_' or '-'",
            details=[{"field": "name", "message": "must be 1-64 letters, digits, '_' or '-'"}],
        )
    return builder(spec, deps)


def build_tools(specs: Sequence[ToolSpec], deps: ToolDependencies) -> list[BaseTool]:
    """One tool per spec, in order; names must be unique (the model calls tools by name)."""
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValidationFailedError(
            f"tool names must be unique within an agent: {', '.join(duplicates)}",
            details=[{"field": "name", "message": f"duplicate name {n!r}"} for n in duplicates],
        )
    return [build_tool(spec, deps) for spec in specs]


def build_available_tools(specs: Sequence[ToolSpec], deps: ToolDependencies) -> list[BaseTool]:
    """Like `build_tools`, but a tool that cannot be built is left out (and logged) instead of
    taking the whole agent down with it: one bad or not-yet-supported tool must not stop a
    tenant's chat."""
    from agenthub.observability import get_logger

    built: list[BaseTool] = []
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            continue
        try:
            built.append(build_tool(spec, deps))
        except AgentHubError as exc:
            get_logger().warning(
                "tool left out", extra={"tool_name": spec.name, "error": exc.message}
            )
            continue
        seen.add(spec.name)
    return built
