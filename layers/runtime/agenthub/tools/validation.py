"""Checks run when a tool is saved: the schema is expressible, the config fits the type, and the
URL passes the SSRF guard (with DNS) under the current allow-list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agenthub.errors import SsrfBlockedError, ValidationFailedError
from agenthub.settings import get_settings
from agenthub.tools.base import TOOL_NAME
from agenthub.tools.http import METHOD_BY_TYPE, parse_http_config
from agenthub.tools.rag import parse_rag_config
from agenthub.tools.schema import validate_input_schema
from agenthub.tools.ssrf import Resolver, check_url, system_resolver

NOT_AVAILABLE_YET: frozenset[str] = frozenset()

ConfigValidator = Callable[[str, dict[str, Any], "dict[str, Any] | None", Resolver], None]


def validate_tool_definition(
    *,
    name: str,
    tool_type: str,
    input_schema: dict[str, Any],
    config: dict[str, Any],
    resolver: Resolver = system_resolver,
) -> None:
    """Everything a tool must pass to be saved (ValidationFailedError naming the field)."""
    if not TOOL_NAME.fullmatch(name):
        raise ValidationFailedError(
            "a tool name is a letter, then up to 63 letters, digits or '_'",
            details=[
                {
                    "field": "name",
                    "message": "must be a letter, then up to 63 letters, digits or '_'",
                }
            ],
        )
    validate_input_schema(input_schema)
    validate_tool_config(tool_type, config, input_schema=input_schema, resolver=resolver)


def validate_tool_config(
    tool_type: str,
    config: dict[str, Any],
    *,
    input_schema: dict[str, Any] | None = None,
    resolver: Resolver = system_resolver,
) -> None:
    """Refuse a config that does not fit `tool_type`; with `input_schema`, also arguments it
    names that the schema lacks (pass it whenever the schema is known)."""
    validator = _VALIDATORS.get(tool_type)
    if validator is None:
        reason = "is not available yet" if tool_type in NOT_AVAILABLE_YET else "is unknown"
        raise ValidationFailedError(
            f"tool type {tool_type} {reason}",
            details=[{"field": "type", "message": f"tool type {tool_type} {reason}"}],
        )
    validator(tool_type, config, input_schema, resolver)


def _validate_http(
    tool_type: str,
    config: dict[str, Any],
    input_schema: dict[str, Any] | None,
    resolver: Resolver,
) -> None:
    parsed = parse_http_config(tool_type, config, input_schema=input_schema)
    try:
        check_url(parsed.example_url, allow=get_settings().tools.ssrf_allow, resolver=resolver)
    except SsrfBlockedError as exc:
        raise ValidationFailedError(
            f"config.url: {exc.message}",
            details=[{"field": "config.url", "message": exc.message}],
        ) from exc


def _validate_rag(
    tool_type: str,
    config: dict[str, Any],
    input_schema: dict[str, Any] | None,
    resolver: Resolver,
) -> None:
    # The knowledge base is a name resolved in the calling tenant at run time (tools are
    # global); the tool admin checks that a tenant-scoped tool names one of its tenant's own.
    parse_rag_config(config, input_schema)


def _validate_db_query(
    tool_type: str,
    config: dict[str, Any],
    input_schema: dict[str, Any] | None,
    resolver: Resolver,
) -> None:
    # One read-only SELECT whose :parameters are the schema's properties (tools.sql_guard).
    # The data source is the tenant's: its host is checked when the data source is saved.
    from agenthub.tools.db_query import parse_db_query_config

    parse_db_query_config(config, input_schema=input_schema)


def _validate_ocr(
    tool_type: str,
    config: dict[str, Any],
    input_schema: dict[str, Any] | None,
    resolver: Resolver,
) -> None:
    # The file comes from the turn's attachments, never from the config; only the default
    # document kind may be set.
    kind = config.get("kind", "auto")
    if set(config) - {"kind"} or kind not in {"auto", "invoice", "receipt", "text"}:
        raise ValidationFailedError(
            "config: an OCR tool takes only `kind` (auto, invoice, receipt or text)",
            details=[{"field": "config", "message": "only `kind`: auto, invoice, receipt, text"}],
        )


_VALIDATORS: dict[str, ConfigValidator] = dict.fromkeys(METHOD_BY_TYPE, _validate_http)
_VALIDATORS["RAG"] = _validate_rag
_VALIDATORS["DB_QUERY"] = _validate_db_query
_VALIDATORS["OCR"] = _validate_ocr
