"""The container's one PostgreSQL pool: psycopg_pool, shared by the LangGraph checkpointer, the
chat turn's store (agenthub.db.chat_store) and SQLAlchemy (agenthub.db.engine.engine_on_pool).

Made to work behind RDS Proxy without pinning: no server-side prepared statements
(`prepare_threshold=None`), no `SET`; the statement timeout as a startup option only where it is
allowed (`statement_timeout_ms=None` behind the proxy, which refuses startup options: it is set
on the database role there, see docs/deploy.md). Connections wait in the pool in the saver's
mode (autocommit, dict rows); whoever changes that gives them back as they were.
No SQLAlchemy here: the chat function imports this module.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from typing import Any

from psycopg import Connection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

# A connection idle for longer than this is checked (one empty query) before it is handed out:
# a warm Lambda container may have been frozen for minutes, and the proxy or the database may
# have dropped it meanwhile. One in steady use is not (that was SQLAlchemy's pre-ping per use).
IDLE_CHECK_S = 30.0

PoolConnection = Connection[DictRow]


class _UseClock:
    """When each connection was last handed out (or made): an upper bound of its idle time.

    Kept on the way out because the pool's only hook on the way back (`reset`) would move
    every return onto a worker thread."""

    def __init__(self) -> None:
        self._used: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def used(self, conn: Any) -> None:
        with self._lock:
            self._used[conn] = time.monotonic()

    def idle_for(self, conn: Any) -> float:
        with self._lock:
            since = self._used.get(conn)
        return float("inf") if since is None else time.monotonic() - since


def to_pool_mode(conn: Connection[Any]) -> None:
    """Put a borrowed connection back in the mode the pool's users expect (an idle one)."""
    conn.autocommit = True
    conn.row_factory = dict_row


def libpq_conninfo(url: str) -> str:
    """`postgresql+psycopg://...` (the SQLAlchemy form) or `postgres://` -> a libpq URL."""
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", url, count=1)


def build_pool(
    url: str,
    *,
    max_size: int = 10,
    min_size: int = 1,
    timeout_s: float = 5.0,
    statement_timeout_ms: int | None = 15_000,
    idle_check_s: float = IDLE_CHECK_S,
    max_lifetime_s: float = 300.0,
    connection_class: type[PoolConnection] = Connection,
) -> ConnectionPool[PoolConnection]:
    """The pool, opening its first connection in the background (it is ready by the time the
    first request has built its graph). `connection_class` lets tests watch the traffic."""
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "row_factory": dict_row,
        "prepare_threshold": None,
        "connect_timeout": 5,
    }
    if statement_timeout_ms is not None:
        kwargs["options"] = f"-c statement_timeout={statement_timeout_ms}"
    clock = _UseClock()

    def check(conn: PoolConnection) -> None:
        if clock.idle_for(conn) > idle_check_s:
            ConnectionPool.check_connection(conn)
        clock.used(conn)

    pool: ConnectionPool[PoolConnection] = ConnectionPool(
        libpq_conninfo(url),
        connection_class=connection_class,
        kwargs=kwargs,
        min_size=min(min_size, max_size),
        max_size=max_size,
        timeout=timeout_s,
        max_lifetime=max_lifetime_s,
        configure=clock.used,  # a new connection counts as just checked
        check=check,
        # SQLAlchemy closes the connections it borrowed: that gives them back (restored to
        # the pool's mode by agenthub.db.engine.engine_on_pool first).
        close_returns=True,
        name="agenthub",
        open=False,
    )
    pool.open(wait=False)
    return pool
