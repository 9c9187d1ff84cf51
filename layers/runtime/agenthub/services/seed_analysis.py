"""The Analysis agent of the demo: DB_QUERY tools on the demo analytics database, per tenant.

Creates what is missing and leaves the rest alone (an admin's later changes survive a re-seed):
the analytics database (`demo.analytics_db`), each demo tenant's `analytics` data source, the
`table_or_chart` output format, the tools `sales_by_month` (a chart) and `top_customers_by_debt`
(a table), the agent `analysis` with them, and the tenants' permissions for both. The agent's
knowledge base tool (`search_company_policies`) is seeded with the knowledge bases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agenthub.crypto import KeyRing
from agenthub.db.engine import libpq_url
from agenthub.db.models import TenantAgentPermission, TenantToolPermission, ToolType
from agenthub.observability import get_logger
from agenthub.repositories import (
    AgentConfigRepository,
    BaseToolRepository,
    DataSourceRepository,
    OutputFormatRepository,
    PermissionRepository,
    ToolConfigRepository,
)
from agenthub.tools.data_source_url import parse_data_source_url

AGENT = "analysis"
DATA_SOURCE = "analytics"
TABLE_OR_CHART = "table_or_chart"

_TEXT = {"type": ["string", "number", "null"]}
TABLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["columns", "rows"],
    "properties": {
        "columns": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": {"type": "array", "items": _TEXT}},
    },
}
CHART_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "labels", "series"],
    "properties": {
        "kind": {"enum": ["bar", "line", "pie"]},
        "labels": {"type": "array", "items": {"type": "string"}},
        "series": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "values"],
                "properties": {
                    "name": {"type": "string"},
                    "values": {"type": "array", "items": {"type": "number"}},
                },
            },
        },
    },
}
# One of the formats `table` or `chart`: each branch's title names the format it answers in.
TABLE_OR_CHART_SCHEMA: dict[str, Any] = {
    "anyOf": [{"title": "chart", **CHART_SCHEMA}, {"title": "table", **TABLE_SCHEMA}]
}


@dataclass(frozen=True)
class QueryTool:
    name: str
    description: str
    input_schema: dict[str, Any]
    config: dict[str, Any]


QUERY_TOOLS = (
    QueryTool(
        name="sales_by_month",
        description=(
            "Revenue (sales) by month for one year, from the company's analytics database: "
            "monthly revenue and sales trend, shown as a chart"
        ),
        input_schema={
            "type": "object",
            "properties": {
                "year": {
                    "type": "integer",
                    "minimum": 2000,
                    "maximum": 2100,
                    "description": "the calendar year, e.g. 2025",
                }
            },
            "required": ["year"],
        },
        config={
            "data_source": DATA_SOURCE,
            "sql": (
                "SELECT to_char(month, 'YYYY-MM') AS month, revenue\n"
                "FROM monthly_sales\n"
                "WHERE extract(year FROM month) = :year\n"
                "ORDER BY month"
            ),
            "max_rows": 12,
            "timeout_s": 5,
            "presentation": "chart",
        },
    ),
    QueryTool(
        name="top_customers_by_debt",
        description=(
            "Top customers ranked by outstanding debt (unpaid invoices), from the company's "
            "analytics database, shown as a table"
        ),
        input_schema={
            "type": "object",
            "properties": {
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 50,
                    "default": 5,
                    "description": "how many customers to list",
                }
            },
        },
        config={
            "data_source": DATA_SOURCE,
            "sql": (
                "SELECT c.name AS customer_name, c.mst,\n"
                "       sum(i.amount - i.paid) AS debt,\n"
                "       count(*) FILTER (WHERE i.paid < i.amount) AS unpaid_invoices\n"
                "FROM customers c JOIN invoices i ON i.customer_id = c.id\n"
                "WHERE i.paid < i.amount\n"
                "GROUP BY c.name, c.mst\n"
                "ORDER BY debt DESC, c.name\n"
                "LIMIT coalesce(:limit, 5)"
            ),
            "max_rows": 50,
            "timeout_s": 5,
            "presentation": "table",
        },
    ),
)

AGENT_DESCRIPTION = (
    "Business analysis and reports from the company's analytics database: revenue and sales "
    "by month (charts, trends), top customers and other rankings (tables); and the company's "
    "policies and rules: payment terms and methods, returns, warranty period, when VAT "
    "invoices are issued, support hours (chính sách, điều khoản thanh toán, đổi trả hàng, "
    "bảo hành)"
)
AGENT_PROMPT = (
    "You are the Analysis agent. You answer questions about the company's figures with your "
    "database tools, and about company policies with the policy search. Never invent numbers: "
    "call a tool. Answer a series over time (revenue by month) as a chart and a ranking or "
    "list of records (top customers by debt) as a table."
)


def seed_analysis(db: Session, *, keyring: KeyRing, tenant_ids: tuple[str, ...]) -> bool:
    """The Analysis agent, its tools and each tenant's analytics data source (what is missing).

    True when something was created (the tenants' config versions must then move)."""
    changed = False
    formats = OutputFormatRepository(db)
    fmt = formats.get_by_name(TABLE_OR_CHART) or formats.upsert(
        name=TABLE_OR_CHART,
        renderer_hint="auto",
        schema=TABLE_OR_CHART_SCHEMA,
        description="A chart for series over time, a table for rankings and lists",
    )
    base_tool = BaseToolRepository(db).get_by_type(ToolType.DB_QUERY)
    assert base_tool is not None, "the base tools are seeded first"
    tools = ToolConfigRepository(db)
    tool_ids = []
    for spec in QUERY_TOOLS:
        tool = tools.get_by_name(spec.name)
        if tool is None:
            changed = True
            tool = tools.create(
                name=spec.name,
                base_tool_id=base_tool.id,
                description=spec.description,
                input_schema=spec.input_schema,
                config=spec.config,
            )
        tool_ids.append(tool.id)
    agents = AgentConfigRepository(db)
    agent = agents.get_by_name(AGENT)
    if agent is None:
        changed = True
        agent = agents.create(
            name=AGENT,
            display_name="Analysis",
            description=AGENT_DESCRIPTION,
            system_prompt=AGENT_PROMPT,
            output_format_id=fmt.id,
        )
        for priority, tool_id in enumerate(tool_ids, start=1):
            agents.assign_tool(agent_id=agent.id, tool_id=tool_id, priority=priority)
    permissions = PermissionRepository(db)
    for tenant_id in tenant_ids:
        if db.get(TenantAgentPermission, (tenant_id, agent.id)) is None:
            changed = True
            permissions.set_agent(tenant_id=tenant_id, agent_id=agent.id, enabled=True)
        for tool_id in tool_ids:
            if db.get(TenantToolPermission, (tenant_id, tool_id)) is None:
                changed = True
                permissions.set_tool(tenant_id=tenant_id, tool_id=tool_id, enabled=True)
    return _seed_data_sources(db, keyring=keyring, tenant_ids=tenant_ids) or changed


def _seed_data_sources(db: Session, *, keyring: KeyRing, tenant_ids: tuple[str, ...]) -> bool:
    import psycopg

    from agenthub.demo.analytics_db import ensure_analytics_database, set_role_password

    sources = DataSourceRepository(db)
    missing = [t for t in tenant_ids if sources.get(tenant_id=t, name=DATA_SOURCE) is None]
    if not missing:
        return False
    server_url = libpq_url(db.get_bind().engine.url.render_as_string(hide_password=False))
    try:
        analytics = ensure_analytics_database(server_url, tenant_ids)
        for tenant_id in missing:
            url = analytics.tenant_url(tenant_id, set_role_password(server_url, tenant_id))
            sources.put(
                tenant_id=tenant_id,
                name=DATA_SOURCE,
                encrypted_url=keyring.encrypt(url),
                url_hint=parse_data_source_url(url).masked(),
                description="Demo analytics database (customers, invoices, monthly sales)",
            )
    except psycopg.Error as exc:
        # A managed server may refuse CREATE DATABASE / ROLE: the agent is there, its tools say
        # the data source is missing, and an admin can PUT one.
        get_logger().warning(
            "demo analytics database not created", extra={"error": type(exc).__name__}
        )
        return False
    return True
