"""The tool dependencies the composition root builds, with the HTTP client swapped if asked."""

from __future__ import annotations

from dataclasses import replace

from agenthub import composition
from agenthub.tools.http import HttpClientFactory
from agenthub.tools.registry import ToolDependencies


def tool_deps(client: HttpClientFactory | None = None) -> ToolDependencies:
    """The real dependencies (guarded client, key ring, settings); `client` replaces the client."""
    real = composition.get_tool_dependencies()
    return real if client is None else replace(real, http_client_factory=client)


def close_guarded_clients() -> None:
    """Close the process's guarded clients: no pooled connection outlives its test server."""
    for component in (composition.get_guarded_http_client, composition.get_provider_http_client):
        if component.built:
            component().close()
        component.cache_clear()
    # The async client's pool belongs to the event loop that used it: it is only forgotten.
    composition.get_provider_async_http_client.cache_clear()
