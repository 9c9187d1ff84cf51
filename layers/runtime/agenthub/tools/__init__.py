"""Runtime tools: LangChain tools built from the tool configs stored per tenant.

registry     build_tool / build_tools: spec -> StructuredTool, one builder per tool type
validation   the checks run when a tool is saved
schema       stored JSON Schema -> the pydantic args model (or a clear refusal)
http         HTTP_GET / HTTP_POST tools
db_query     DB_QUERY tools: an admin's read-only SELECT on a tenant data source
sql_guard    the save-time rules of a DB_QUERY tool's SQL (one read-only SELECT)
db_pools     per-container connection pools of tenant data sources
data_source_url  a data source's PostgreSQL URL: parsed, masked, host-checked
ssrf         which URLs and addresses tools may reach
transport    the SSRF-guarded httpx2 clients of tools and providers (checked addresses only)
base         what every tool shares: context, error results, per-call metrics

Importing this package imports none of them: a chat container loads the tools' machinery when
it first builds an agent's tools, not on a turn the supervisor answers.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agenthub.domain import TOOL_CALLS_KEY
    from agenthub.tools.base import ToolFailure
    from agenthub.tools.registry import build_tool, build_tools
    from agenthub.tools.validation import validate_tool_config, validate_tool_definition

_HOMES = {
    "TOOL_CALLS_KEY": "agenthub.domain",
    "ToolFailure": "agenthub.tools.base",
    "build_tool": "agenthub.tools.registry",
    "build_tools": "agenthub.tools.registry",
    "validate_tool_config": "agenthub.tools.validation",
    "validate_tool_definition": "agenthub.tools.validation",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(home), name)


__all__ = [
    "TOOL_CALLS_KEY",
    "ToolFailure",
    "build_tool",
    "build_tools",
    "validate_tool_config",
    "validate_tool_definition",
]
