"""Fixtures for the repository tests; load with `pytest_plugins = [...repo_fixtures]`.

Each test gets its own migrated database (`database_url`), an engine on it, and a session
(`repo_db`) whose transaction is never committed unless the test does it on purpose; or the
app's psycopg pool of one connection that counts its round trips (`pool`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from psycopg_pool import ConnectionPool
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.engine import build_engine, build_sessionmaker
from agenthub.db.pool import PoolConnection, build_pool
from tests.support.pg_exchanges import TracedConnection


@pytest.fixture
def repo_engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url, pool_size=3, max_overflow=2)
    yield engine
    engine.dispose()


@pytest.fixture
def repo_factory(repo_engine: Engine) -> sessionmaker[Session]:
    return build_sessionmaker(repo_engine)


@pytest.fixture
def repo_db(repo_factory: sessionmaker[Session]) -> Iterator[Session]:
    with repo_factory() as db:
        yield db


@pytest.fixture
def pool(database_url: str) -> Iterator[ConnectionPool[PoolConnection]]:
    pool = build_pool(
        database_url, max_size=1, connection_class=TracedConnection, statement_timeout_ms=None
    )
    pool.wait()
    yield pool
    pool.close()
