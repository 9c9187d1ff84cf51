"""DB_QUERY tools through the admin API: a read-only SELECT is saved, a hostile one is a 422
naming the rule, on create and on patch, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest

from agenthub.db.models import ToolConfig
from tests.integration.admin_support import Admin, ReloadQueue, audit_rows, count

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]

REPORT = {
    "name": "overdue_by_customer",
    "type": "DB_QUERY",
    "description": "Overdue invoices of one customer, from the analytics database",
    "input_schema": {
        "type": "object",
        "properties": {"mst": {"type": "string", "pattern": "^[0-9]{10}$"}},
        "required": ["mst"],
    },
    "config": {
        "data_source": "analytics",
        "sql": "SELECT i.invoice_no, i.amount - i.paid AS open_amount FROM invoices i "
        "JOIN customers c ON c.id = i.customer_id WHERE c.mst = :mst AND i.paid < i.amount",
        "max_rows": 20,
        "timeout_s": 3,
        "presentation": "table",
    },
}


def _with_sql(sql: str) -> dict[str, Any]:
    return {**REPORT, "config": {**REPORT["config"], "sql": sql}}


def test_a_read_only_select_is_saved(reload_queue: ReloadQueue, admin: Admin) -> None:
    created = admin("POST", "/api/admin/tools", REPORT)

    assert created.status == 201, created.body
    assert created.body["type"] == "DB_QUERY"
    assert created.body["config"]["sql"] == REPORT["config"]["sql"]


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("SELECT 1; DELETE FROM invoices", "single_statement"),
        (
            "WITH d AS (DELETE FROM invoices RETURNING *) SELECT * FROM d WHERE :mst = ''",
            "no_writes",
        ),
        ("SELECT * INTO copy FROM invoices WHERE mst = :mst", "no_select_into"),
        ("SELECT * FROM invoices WHERE mst = :mst FOR UPDATE", "no_locking"),
        ("SELECT pg_sleep(30) WHERE :mst = ''", "no_dangerous_function"),
        ("UPDATE invoices SET paid = amount WHERE mst = :mst", "select_only"),
        ("SELECT * FROM invoices WHERE mst = $1", "named_parameters"),
        ("SELECT * FROM invoices WHERE mst = :tax_code", "parameters"),
    ],
)
def test_a_hostile_query_is_a_422_naming_the_rule_and_nothing_is_saved(
    reload_queue: ReloadQueue, admin: Admin, sql: str, rule: str
) -> None:
    before = count(ToolConfig)

    result = admin("POST", "/api/admin/tools", _with_sql(sql))

    assert result.status == 422, result.body
    assert result.body["error"]["code"] == "validation_error"
    assert f"({rule})" in result.body["error"]["message"]
    assert count(ToolConfig) == before
    assert reload_queue.messages() == []


def test_patching_in_a_write_is_refused_and_the_tool_is_unchanged(
    reload_queue: ReloadQueue, admin: Admin
) -> None:
    created = admin("POST", "/api/admin/tools", REPORT).body
    reload_queue.messages()
    audited = len(audit_rows())

    result = admin(
        "PATCH",
        f"/api/admin/tools/{created['id']}",
        {
            "config": {**REPORT["config"], "sql": "SELECT 1 WHERE :mst = ''; DROP TABLE invoices"},
            "version": created["version"],
        },
    )

    assert result.status == 422, result.body
    assert "(single_statement)" in result.body["error"]["message"]
    fetched = admin("GET", f"/api/admin/tools/{created['id']}").body
    assert fetched["config"]["sql"] == REPORT["config"]["sql"]
    assert fetched["version"] == created["version"]
    assert len(audit_rows()) == audited
