"""The admin function's app: agents, tools, tenants, permissions, LLM config, reload, metrics.

Every route is under `/api/admin` and needs an admin role (`platform_admin` or `tenant_admin`);
the OpenAPI document is served at `/api/admin/openapi.json` (and `/api/admin/docs`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from agenthub.api.admin import (
    agents,
    catalogue,
    data_sources,
    knowledge,
    metrics,
    tenant_deletion,
    tenants,
    tools,
)
from agenthub.api.app import create_app


def create_admin_app() -> FastAPI:
    app = create_app(
        title="AgentHub admin",
        description=(
            "Manage agents, tools, tenants (settings, LLM config, permissions), reload tenant "
            "configs and read usage metrics. Changes need the version you read "
            '(`If-Match: "<version>"` or a `version` field) and are audited.'
        ),
        body_limits=knowledge.BODY_LIMITS,
    )
    for module in (
        agents,
        tools,
        tenants,
        data_sources,
        catalogue,
        metrics,
        knowledge,
        tenant_deletion,
    ):
        app.include_router(module.router)

    # API Gateway routes only /api/admin/* to this function: serve the docs under it too.
    @app.get("/api/admin/openapi.json", include_in_schema=False)
    def openapi_document() -> dict[str, Any]:
        return app.openapi()

    @app.get("/api/admin/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="openapi.json", title="AgentHub admin API")

    return app


__all__ = ["create_admin_app"]
