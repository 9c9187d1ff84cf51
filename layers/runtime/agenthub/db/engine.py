"""Engine and session factory for the application database (psycopg 3 driver)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


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
    """The container's one PostgreSQL pool (the checkpointer borrows from it too).

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


def build_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as db, db.begin():
        yield db
