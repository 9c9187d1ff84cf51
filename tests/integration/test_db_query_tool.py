"""DB_QUERY tools at run time, on the real embedded PostgreSQL: parameters bound by the driver, a
read-only transaction (a write smuggled past the save-time guard still fails), the statement
timeout, the row cap, the per-data-source pools and the tenant isolation of the demo database."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from langchain_core.messages import ToolMessage
from pydantic import SecretStr

from agenthub.crypto import KeyRing
from agenthub.domain import TOOL_CONTEXT_KEY, ToolContext, ToolSpec
from agenthub.errors import ValidationFailedError
from agenthub.tools import TOOL_CALLS_KEY, build_tool
from agenthub.tools.db_pools import DataSourcePools
from tests.conftest import _admin_execute, url_with_database
from tests.support.tool_deps import tool_deps

LOOPBACK = ["127.0.0.1/32", "localhost"]
NO_ARGS: dict[str, Any] = {"type": "object", "properties": {}}
REGION_ARGS: dict[str, Any] = {
    "type": "object",
    "properties": {"region": {"type": "string", "description": "a sales region"}},
    "required": ["region"],
}
SETUP = """
CREATE TABLE sales (region text NOT NULL, month date NOT NULL, amount numeric(12, 2) NOT NULL);
INSERT INTO sales VALUES
    ('north', '2025-01-01', 1200.50), ('north', '2025-02-01', 900),
    ('south', '2025-01-01', 300), ('O''Brien', '2025-01-01', 7);
CREATE TABLE visits (at timestamptz NOT NULL DEFAULT now());
-- A function that writes: its name passes the guard, only the transaction can stop it.
CREATE FUNCTION record_visit() RETURNS integer LANGUAGE sql AS
    'INSERT INTO visits DEFAULT VALUES RETURNING 1';
"""


@pytest.fixture
def sales_url(pg_admin_url: str) -> Iterator[str]:
    name = f"agenthub_sales_{uuid.uuid4().hex[:8]}"
    _admin_execute(pg_admin_url, f'CREATE DATABASE "{name}"')
    url = url_with_database(pg_admin_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SETUP)
    yield url
    _admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing([Fernet.generate_key().decode()])


@pytest.fixture
def pools(keyring: KeyRing) -> Iterator[DataSourcePools]:
    pools = DataSourcePools(decrypt=keyring.decrypt, allow=lambda: LOOPBACK)
    yield pools
    pools.close()


def query_tool(
    pools: DataSourcePools | None,
    keyring: KeyRing,
    url: str | None,
    sql: str,
    *,
    schema: dict[str, Any] = NO_ARGS,
    encrypted_url: str | None = None,
    **config: Any,
) -> Any:
    if encrypted_url is None and url:
        encrypted_url = keyring.encrypt(url).decode()
    spec = ToolSpec(
        id=uuid.uuid4(),
        name="sales_report",
        description="Sales figures from the analytics database",
        type="DB_QUERY",
        input_schema=schema,
        config={"data_source": "analytics", "sql": sql, **config},
        encrypted_data_source_url=encrypted_url,
    )
    deps = replace(tool_deps(), data_source_pools=pools)
    return build_tool(spec, deps)


def invoke(tool: Any, args: dict[str, Any], calls: list[dict[str, Any]] | None = None) -> Any:
    context = ToolContext(tenant_id="acme", user_id="u-1", user_jwt=SecretStr("jwt"))
    configurable: dict[str, Any] = {TOOL_CONTEXT_KEY: context}
    if calls is not None:
        configurable[TOOL_CALLS_KEY] = calls
    message = tool.invoke(
        {"type": "tool_call", "id": "call-1", "name": tool.name, "args": args},
        config={"configurable": configurable},
    )
    assert isinstance(message, ToolMessage)
    return message


def result_of(message: ToolMessage) -> dict[str, Any]:
    assert message.status == "success", message.content
    return dict(json.loads(message.content))


def error_of(message: ToolMessage) -> dict[str, Any]:
    assert message.status == "error", message.content
    return dict(json.loads(message.content)["error"])


def visits(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM visits").fetchone()
    assert row is not None
    return int(row[0])


# --- results ------------------------------------------------------------------------------------


def test_rows_come_back_as_json_with_the_parameter_bound(
    pools: DataSourcePools, keyring: KeyRing, sales_url: str
) -> None:
    tool = query_tool(
        pools,
        keyring,
        sales_url,
        "SELECT to_char(month, 'YYYY-MM') AS month, amount FROM sales "
        "WHERE region = :region ORDER BY month",
        schema=REGION_ARGS,
        presentation="chart",
    )
    calls: list[dict[str, Any]] = []

    result = result_of(invoke(tool, {"region": "north"}, calls))

    assert result == {
        "columns": ["month", "amount"],
        "rows": [{"month": "2025-01", "amount": 1200.5}, {"month": "2025-02", "amount": 900}],
        "row_count": 2,
        "truncated": False,
        "presentation": "chart",
    }
    assert calls[0]["outcome"] == "ok"


@pytest.mark.parametrize(
    ("region", "expected"),
    [("O'Brien", 1), ("' OR '1'='1", 0), ("north'; DELETE FROM sales; --", 0)],
)
def test_a_value_is_data_never_sql(
    pools: DataSourcePools, keyring: KeyRing, sales_url: str, region: str, expected: int
) -> None:
    tool = query_tool(
        pools,
        keyring,
        sales_url,
        "SELECT region FROM sales WHERE region = :region",
        schema=REGION_ARGS,
    )

    result = result_of(invoke(tool, {"region": region}))

    assert result["row_count"] == expected
    with psycopg.connect(sales_url) as conn:
        assert conn.execute("SELECT count(*) FROM sales").fetchone() == (4,)


# --- the run-time walls -------------------------------------------------------------------------


def test_a_write_smuggled_past_the_guard_fails_in_the_read_only_transaction(
    pools: DataSourcePools, keyring: KeyRing, sales_url: str
) -> None:
    # GIVEN a SELECT the guard accepts, calling a function that INSERTs
    tool = query_tool(pools, keyring, sales_url, "SELECT record_visit() AS visited")

    # WHEN the agent calls it
    error = error_of(invoke(tool, {}))

    # THEN PostgreSQL refuses the write (read-only transaction) and nothing was written
    assert error["type"] == "query"
    assert error["detail"] == {"sqlstate": "25006"}  # read_only_sql_transaction
    assert "read-only transaction" in error["message"]
    assert visits(sales_url) == 0


def test_the_pooled_connections_are_read_only_by_default(
    pools: DataSourcePools, keyring: KeyRing, sales_url: str
) -> None:
    encrypted = keyring.encrypt(sales_url).decode()
    with pools.connection(
        tenant_id="acme", name="analytics", encrypted_url=encrypted, wait_s=5
    ) as conn:
        conn.autocommit = True  # even outside the tool's own transaction
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("SELECT record_visit()")
        conn.autocommit = False
    assert visits(sales_url) == 0


def test_the_statement_timeout_stops_a_long_query(
    pools: DataSourcePools, keyring: KeyRing, sales_url: str
) -> None:
    # The tool's pool holds a connection already: on a busy machine, opening one could take
    # the whole 0.3 s, a "could not be reached in time" instead of the statement timeout.
    encrypted = keyring.encrypt(sales_url).decode()
    with pools.connection(tenant_id="acme", name="analytics", encrypted_url=encrypted, wait_s=5):
        pass
    tool = query_tool(
        pools,
        keyring,
        sales_url,
        "SELECT count(*) FROM generate_series(1, 2000000000) AS g",
        encrypted_url=encrypted,
        timeout_s=0.3,
    )

    started = time.perf_counter()
    error = error_of(invoke(tool, {}))
    elapsed = time.perf_counter() - started

    assert len(pools) == 1  # the tool ran on the pool opened above
    assert error["type"] == "timeout"
    assert "0.3 s" in error["message"]
    assert elapsed < 3.0
    # The pool's connection is usable afterwards.
    ok = query_tool(pools, keyring, sales_url, "SELECT count(*) AS n FROM sales")
    assert result_of(invoke(ok, {}))["rows"] == [{"n": 4}]


def test_the_row_cap_cuts_the_result_and_says_so(
    pools: DataSourcePools, keyring: KeyRing, sales_url: str
) -> None:
    tool = query_tool(
        pools, keyring, sales_url, "SELECT g AS n FROM generate_series(1, 5000) AS g", max_rows=10
    )

    result = result_of(invoke(tool, {}))

    assert result["row_count"] == 10
    assert result["truncated"] is True
    assert [row["n"] for row in result["rows"]] == list(range(1, 11))


def test_a_query_error_is_a_result_the_agent_can_explain(
    pools: DataSourcePools, keyring: KeyRing, sales_url: str
) -> None:
    tool = query_tool(pools, keyring, sales_url, "SELECT missing_column FROM sales")

    error = error_of(invoke(tool, {}))

    assert error["type"] == "query"
    assert 'column "missing_column" does not exist' in error["message"]
    assert error["detail"] == {"sqlstate": "42703"}


# --- data sources -------------------------------------------------------------------------------


def test_a_tenant_without_the_data_source_gets_a_clear_failure(
    pools: DataSourcePools, keyring: KeyRing
) -> None:
    tool = query_tool(pools, keyring, None, "SELECT 1 AS one")

    error = error_of(invoke(tool, {}))

    assert error["type"] == "configuration"
    assert "no data source named 'analytics'" in error["message"]


def test_an_unreachable_database_is_a_network_failure(
    pools: DataSourcePools, keyring: KeyRing
) -> None:
    tool = query_tool(
        pools, keyring, "postgresql://reader:secret@127.0.0.1:1/sales", "SELECT 1 AS one"
    )

    error = error_of(invoke(tool, {}))

    assert error["type"] in ("network", "timeout")
    assert "secret" not in json.dumps(error)


def test_a_socket_or_private_host_is_refused_without_the_allow_list(
    keyring: KeyRing, sales_url: str
) -> None:
    strict = DataSourcePools(decrypt=keyring.decrypt, allow=lambda: [])
    try:
        for url in (sales_url, "postgresql://reader:pw@10.0.0.5:5432/sales"):
            error = error_of(invoke(query_tool(strict, keyring, url, "SELECT 1 AS one"), {}))
            assert error["type"] == "ssrf_blocked"
    finally:
        strict.close()


def test_an_undecryptable_url_is_a_configuration_failure(
    pools: DataSourcePools, sales_url: str
) -> None:
    other_keys = KeyRing([Fernet.generate_key().decode()])
    tool = query_tool(pools, other_keys, sales_url, "SELECT 1 AS one")

    error = error_of(invoke(tool, {}))

    assert error["type"] == "configuration"


def test_one_pool_per_data_source_and_a_new_one_when_its_url_changes(
    pools: DataSourcePools, keyring: KeyRing, sales_url: str
) -> None:
    first = query_tool(pools, keyring, sales_url, "SELECT 1 AS one")
    invoke(first, {})
    invoke(first, {})
    assert len(pools) == 1

    # The URL was saved again (a new token): the old pool is closed, one pool remains.
    changed = query_tool(pools, keyring, sales_url, "SELECT 2 AS two")
    assert result_of(invoke(changed, {}))["rows"] == [{"two": 2}]
    assert len(pools) == 1


def test_without_pools_the_tool_cannot_be_built(keyring: KeyRing, sales_url: str) -> None:
    with pytest.raises(ValidationFailedError):
        query_tool(None, keyring, sales_url, "SELECT 1 AS one")


def test_a_hostile_query_stored_behind_the_admin_apis_back_never_runs(
    pools: DataSourcePools, keyring: KeyRing, sales_url: str
) -> None:
    # GIVEN a tool row written straight into the database, past the save-time checks
    tool = query_tool(
        pools, keyring, sales_url, "WITH d AS (DELETE FROM sales RETURNING 1) SELECT 1 AS one"
    )

    # WHEN it is called, the guard runs again first
    error = error_of(invoke(tool, {}))

    assert error["type"] == "configuration"
    assert "(no_writes)" in error["message"]
    with psycopg.connect(sales_url) as conn:
        assert conn.execute("SELECT count(*) FROM sales").fetchone() == (4,)


# --- the demo analytics database ----------------------------------------------------------------


def test_a_tenant_role_cannot_read_another_tenants_schema(
    pg_admin_url: str, pools: DataSourcePools, keyring: KeyRing
) -> None:
    from agenthub.demo.analytics_db import ensure_analytics_database, set_role_password

    analytics = ensure_analytics_database(pg_admin_url, ("acme", "globex"))
    acme_url = analytics.tenant_url("acme", set_role_password(pg_admin_url, "acme"))

    own = result_of(
        invoke(query_tool(pools, keyring, acme_url, "SELECT count(*) AS n FROM customers"), {})
    )
    foreign = error_of(
        invoke(query_tool(pools, keyring, acme_url, "SELECT name FROM globex.customers"), {})
    )

    assert own["rows"][0]["n"] > 0
    assert foreign["type"] == "query"
    assert foreign["detail"] == {"sqlstate": "42501"}  # insufficient_privilege
