"""The RAG tool: config checks, the caller's tenant from the context, results and citations."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr

from agenthub.domain import TOOL_CONTEXT_KEY, ToolContext, ToolSpec
from agenthub.errors import NotFoundError, ServiceUnavailableError, ValidationFailedError
from agenthub.tools import build_tool, validate_tool_config
from agenthub.tools.base import CITATIONS_KEY, TOOL_CALLS_KEY
from agenthub.tools.registry import ToolDependencies

SCHEMA = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}


@dataclass(frozen=True)
class Hit:
    document_id: str
    title: str
    text: str
    score: float


class InMemoryKnowledge:
    """The search port in memory: knowledge bases per tenant, hits by substring."""

    def __init__(self, bases: dict[tuple[str, str], list[Hit]]) -> None:
        self.bases = bases
        self.calls: list[dict[str, Any]] = []

    def search(
        self,
        *,
        tenant_id: str,
        knowledge_base: str,
        query: str,
        top_k: int,
        min_score: float = 0.0,
        filters: Mapping[str, Any] | None = None,
    ) -> Sequence[Hit]:
        self.calls.append({"tenant_id": tenant_id, "kb": knowledge_base, "top_k": top_k})
        if (tenant_id, knowledge_base) not in self.bases:
            raise NotFoundError(f"this organisation has no knowledge base {knowledge_base!r}")
        hits = [h for h in self.bases[(tenant_id, knowledge_base)] if h.score >= min_score]
        return hits[:top_k]


def _spec(**config: Any) -> ToolSpec:
    return ToolSpec(
        id=uuid.uuid4(),
        name="search_company_policies",
        description="Search the company's policies",
        type="RAG",
        input_schema=SCHEMA,
        config={"knowledge_base": "policies", **config},
    )


def _deps(knowledge: Any) -> ToolDependencies:
    """Only the knowledge search matters to a RAG tool."""
    return ToolDependencies(http_client_factory=_no_http, decrypt=_no_decrypt, knowledge=knowledge)


def _no_http() -> Any:
    raise AssertionError("a RAG tool makes no HTTP call of its own")


def _no_decrypt(token: str) -> Any:
    raise AssertionError("a RAG tool decrypts nothing")


def _run(tool: Any, tenant: str, query: str) -> tuple[Any, list[Any], list[Any]]:
    citations: list[Any] = []
    calls: list[Any] = []
    context = ToolContext(tenant_id=tenant, user_id="u", user_jwt=SecretStr("jwt"))
    config = {
        "configurable": {TOOL_CONTEXT_KEY: context, CITATIONS_KEY: citations, TOOL_CALLS_KEY: calls}
    }
    return json.loads(tool.invoke({"query": query}, config=config)), citations, calls


def test_the_tool_searches_the_callers_tenant_and_returns_cited_chunks() -> None:
    long_text = "Invoices are due within 30 days. " * 20
    knowledge = InMemoryKnowledge(
        {
            ("acme", "policies"): [Hit("d1", "Payment terms", long_text, 0.91)],
            ("globex", "policies"): [Hit("d9", "Payment terms", "Net 45.", 0.9)],
        }
    )
    tool = build_tool(_spec(top_k=2), _deps(lambda: knowledge))

    result, citations, calls = _run(tool, "acme", "payment terms")

    assert knowledge.calls == [{"tenant_id": "acme", "kb": "policies", "top_k": 2}]
    assert result == {
        "knowledge_base": "policies",
        "results": [
            {"document_id": "d1", "title": "Payment terms", "score": 0.91, "text": long_text}
        ],
    }
    assert len(citations) == 1
    assert citations[0]["document_id"] == "d1"
    assert len(citations[0]["snippet"]) <= 300
    assert calls[0]["outcome"] == "ok"


def test_a_tenant_without_that_knowledge_base_gets_a_tool_error_not_another_tenants() -> None:
    knowledge = InMemoryKnowledge({("acme", "policies"): [Hit("d1", "T", "x", 0.9)]})
    tool = build_tool(_spec(), _deps(lambda: knowledge))

    result, citations, _ = _run(tool, "globex", "payment terms")

    assert result["error"]["type"] == "configuration"
    assert "no knowledge base 'policies'" in result["error"]["message"]
    assert citations == []


def test_an_unavailable_knowledge_store_is_a_tool_error_the_agent_can_explain() -> None:
    class Down:
        def search(self, **_: Any) -> Sequence[Hit]:
            raise ServiceUnavailableError("the knowledge store is unavailable")

    tool = build_tool(_spec(), _deps(lambda: Down()))
    result, _, calls = _run(tool, "acme", "returns")
    assert result["error"]["status"] == 503
    assert "unavailable" in result["error"]["message"]
    assert calls[0]["outcome"] == "network"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "config.knowledge_base"),
        ({"knowledge_base": "Policies!"}, "config.knowledge_base"),
        ({"knowledge_base": "p", "top_k": 0}, "config.top_k"),
        ({"knowledge_base": "p", "top_k": 11}, "config.top_k"),
        ({"knowledge_base": "p", "min_score": 1.5}, "config.min_score"),
        ({"knowledge_base": "p", "filters": {"tenant_id": "globex"}}, "config.filters"),
        ({"knowledge_base": "p", "collection_id": "abc"}, "config.collection_id"),
    ],
)
def test_bad_rag_configs_are_refused_naming_the_field(
    base_env: None, config: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        validate_tool_config("RAG", config, input_schema=SCHEMA)
    assert any(d["field"].startswith(field) for d in caught.value.details)


def test_a_rag_tool_needs_a_string_query_argument(base_env: None) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        validate_tool_config(
            "RAG",
            {"knowledge_base": "policies"},
            input_schema={"type": "object", "properties": {"q": {"type": "string"}}},
        )
    assert caught.value.details[0]["field"] == "input_schema.properties.query"
    validate_tool_config("RAG", {"knowledge_base": "policies", "top_k": 10}, input_schema=SCHEMA)


def test_the_offline_model_answers_from_the_best_chunk_and_names_its_document() -> None:
    from agenthub.llm.offline_answers import answer_from_result

    text, data = answer_from_result(
        {
            "knowledge_base": "policies",
            "results": [
                {"document_id": "d1", "title": "Payment terms", "score": 0.9, "text": "Net 30."},
                {
                    "document_id": "d2",
                    "title": "Điều khoản thanh toán",
                    "score": 0.8,
                    "text": "30 ngày",
                },
            ],
        },
        format_name="text",
        schema=None,
    )
    assert text == 'According to "Payment terms": Net 30. (see also: Điều khoản thanh toán)'
    assert data is None
    empty, _ = answer_from_result(
        {"knowledge_base": "policies", "results": []}, format_name="text", schema=None
    )
    assert "nothing" in empty


def test_the_tools_knowledge_base_name_rule_is_the_databases() -> None:
    """tools/rag.py repeats the rule so that the chat path needs no SQLAlchemy models."""
    from agenthub.db.models import KNOWLEDGE_BASE_NAME_PATTERN as STORED_RULE
    from agenthub.tools.rag import KNOWLEDGE_BASE_NAME_PATTERN

    assert KNOWLEDGE_BASE_NAME_PATTERN == STORED_RULE
