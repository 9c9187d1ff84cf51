"""The container's one PostgreSQL pool (agenthub.db.pool) on real PostgreSQL: connections in
the saver's mode, no ping while in steady use, a connection dropped while idle replaced before
anyone gets it (a Lambda container frozen for minutes behind RDS Proxy)."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from agenthub.db.pool import PoolConnection, build_pool, libpq_conninfo
from tests.support.pg_exchanges import TracedConnection

pytest_plugins = ["tests.integration.repo_fixtures"]  # the `pool` fixture


def test_connections_come_in_the_savers_mode_without_prepared_statements(
    pool: ConnectionPool[PoolConnection],
) -> None:
    with pool.connection() as conn:
        assert conn.autocommit
        assert conn.row_factory is dict_row
        assert conn.prepare_threshold is None  # prepared statements would pin RDS Proxy sessions
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}


def test_a_connection_in_steady_use_is_handed_out_without_a_ping(
    pool: ConnectionPool[PoolConnection],
) -> None:
    with pool.connection() as conn:
        assert isinstance(conn, TracedConnection)
        before = conn.exchanges
    for _ in range(5):
        with pool.connection() as again:
            assert again is conn

    assert conn.exchanges == before  # five checkouts, not one query


def test_a_connection_dropped_while_idle_is_replaced_before_use(database_url: str) -> None:
    # GIVEN a pool whose connection was idle past the check limit, and that the server dropped
    pool = build_pool(database_url, max_size=1, idle_check_s=0.0, statement_timeout_ms=None)
    try:
        pool.wait()
        with pool.connection() as conn:
            dropped = conn.info.backend_pid
        with psycopg.connect(libpq_conninfo(database_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (dropped,))

        # WHEN the next request takes a connection
        with pool.connection() as conn:
            row = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()

        # THEN it got a working, new one
        assert row is not None and row["pid"] != dropped
    finally:
        pool.close()


def test_urls_in_the_sqlalchemy_form_are_accepted() -> None:
    assert libpq_conninfo("postgresql+psycopg://u:p@h:5432/d") == "postgresql://u:p@h:5432/d"
    assert libpq_conninfo("postgres://u@h/d") == "postgresql://u@h/d"
    assert libpq_conninfo("postgresql://u@h/d") == "postgresql://u@h/d"
