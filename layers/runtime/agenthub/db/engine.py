"""Engine and session factory for the application database (psycopg 3 driver).

Not on the chat path: the admin, sessions, retention and uploads functions, and a chat turn
whose tenant config is not cached, use SQLAlchemy; the chat turn itself writes through
agenthub.db.chat_store on the pool of agenthub.db.pool, which the engine draws from too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool


def sqlalchemy_url(url: str) -> str:
    """`postgresql://...` (libpq form) -> the SQLAlchemy psycopg 3 form."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The SQLAlchemy form -> a plain libpq URL (psycopg and the LangGraph saver take this)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def build_engine(
    url: str,
    *,
    pool_size: int = 5,
    max_overflow: int = 5,
    pool_timeout_s: float = 5.0,
    statement_timeout_ms: int | None = 15_000,
) -> Engine:
    """An engine with its own SQLAlchemy pool (tests, tools); the application's engine draws
    from the container's one pool instead (`engine_on_pool`, built in agenthub.composition).

    Made to work behind RDS Proxy without pinning sessions: no server-side prepared
    statements (`prepare_threshold=None`), no `SET`; the statement timeout as a startup option
    only where it is allowed (`statement_timeout_ms=None` behind the proxy, which refuses
    startup options: set it on the database role instead, see docs/deploy.md).
    """
    connect_args: dict[str, Any] = {"connect_timeout": 5, "prepare_threshold": None}
    if statement_timeout_ms is not None:
        connect_args["options"] = f"-c statement_timeout={statement_timeout_ms}"
    return create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout_s,
        pool_pre_ping=True,
        pool_recycle=300,
        # Error messages must not carry bound values (message text, tool data) into the logs.
        hide_parameters=True,
        connect_args=connect_args,
    )


def engine_on_pool(pool: ConnectionPool[Any], url: str) -> Engine:
    """An engine whose connections are borrowed from the container's psycopg pool: one pool per
    container for the checkpointer, the chat store and the ORM.

    SQLAlchemy keeps no pool of its own (NullPool): a checkout borrows a pool connection in
    transaction mode with tuple rows (what SQLAlchemy expects); a checkin (after SQLAlchemy's
    rollback) puts it back in the pool's mode and closes it, which gives it back (the pool was
    made with `close_returns`).
    The pool checks idle connections, so no pre-ping here. The connections are the pool's, not
    made with the dialect's connect arguments: its only adapter there (inet/cidr read as text)
    concerns no column of ours. `url` is the pool's database: SQLAlchemy makes no connection
    with it, but `engine.url` names it (the demo seed derives other databases' URLs from it).
    """
    from psycopg.rows import tuple_row

    from agenthub.db.pool import to_pool_mode

    def borrow() -> Any:
        conn = pool.getconn()
        try:
            conn.autocommit = False
            conn.row_factory = tuple_row
        except BaseException:
            pool.putconn(conn)
            raise
        return conn

    engine = create_engine(
        sqlalchemy_url(url),
        creator=borrow,
        poolclass=NullPool,
        # Error messages must not carry bound values (message text, tool data) into the logs.
        hide_parameters=True,
    )

    @event.listens_for(engine, "checkin")
    def _give_back_as_found(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is None:  # invalidated: the pool discards it
            return
        from sqlalchemy.dialects.postgresql.psycopg import _log_notices

        # The dialect adds its notice logger on every (NullPool) connect: remove it again, or
        # a connection borrowed many times would collect them.
        with suppress(ValueError):
            dbapi_connection.remove_notice_handler(_log_notices)
        # A broken connection refuses this; the pool discards it when it comes back.
        with suppress(Exception):
            to_pool_mode(dbapi_connection)

    return engine


def build_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as db, db.begin():
        yield db
