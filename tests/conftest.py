"""Shared fixtures: real PostgreSQL and Redis (embedded unless DATABASE_URL / REDIS_URL are set).

Isolation: every integration test gets its own database, cloned from a migrated template, and a
flushed Redis database. Tiers follow the folder: tests/unit, tests/integration, tests/e2e.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

pytest_plugins = ["tests.support.servers", "tests.integration.storage_fixtures"]

TEST_ISSUER = "https://auth.test.agenthub"
TEST_AUDIENCE = "agenthub-api"


_OWN_BASETEMP = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """A temporary root of this run's own, unless --basetemp names one.

    pytest's shared root (/tmp/pytest-of-<user>) is re-locked to 0700 and pruned by every new
    run; the embedded PostgreSQL of a running suite (the e2e stack's included) runs as another
    user and loses its data directory when a second `make test` starts. A fresh directory per
    run keeps parallel runs apart; it is removed when the run ends.
    """
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        root = Path(tempfile.mkdtemp(prefix="agenthub-pytest-"))
        root.chmod(0o755)
        config.option.basetemp = str(root / "base")
        config.stash[_OWN_BASETEMP] = root


def pytest_unconfigure(config: pytest.Config) -> None:
    root = config.stash.get(_OWN_BASETEMP, None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in ("unit", "integration", "e2e"):
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def _current_event_loop() -> Iterator[None]:
    """The main thread has a current event loop, as in a fresh Lambda process.

    Mangum (the admin and sessions handlers) runs each request on `asyncio.get_event_loop()`,
    which fails once an earlier test's `asyncio.run()` has cleared the current loop: without
    this, a handler test passes or fails by which test ran before it in the same process (with
    pytest-xdist, that order differs from run to run).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loop: asyncio.AbstractEventLoop | None
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            loop = None
    created = None
    if loop is None or loop.is_closed():
        created = asyncio.new_event_loop()
        asyncio.set_event_loop(created)
    yield
    if created is not None:
        created.close()


# --- PostgreSQL -------------------------------------------------------------------------------


def url_with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _admin_execute(admin_url: str, statement: str) -> None:
    from agenthub.db.engine import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    from agenthub.embedded import start_postgres

    # Not under pytest's temporary root: a second pytest run on this machine re-locks that root
    # to 0700 (and prunes old runs), which pulls the data directory from under a PostgreSQL that
    # runs as another user. A directory of this run's own keeps parallel runs apart.
    data_dir = Path(tempfile.mkdtemp(prefix="agenthub-test-pg-"))
    data_dir.chmod(0o755)
    # The server stops, and its data directory goes, when this process exits.
    url = start_postgres(data_dir, delete_on_exit=True)
    _without_durability(url)
    yield url


# A throwaway test server needs no crash safety: without it, creating and dropping each test's
# database (and every commit) skips the disk flushes. Never applied to a DATABASE_URL server.
_NO_DURABILITY = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _without_durability(admin_url: str) -> None:
    for name, value in _NO_DURABILITY.items():
        _admin_execute(admin_url, f"ALTER SYSTEM SET {name} = '{value}'")
    _admin_execute(admin_url, "SELECT pg_reload_conf()")


@pytest.fixture(scope="session")
def template_database(pg_admin_url: str) -> Iterator[str]:
    """A database migrated once per run; each test clones it (CREATE DATABASE ... TEMPLATE)."""
    from agenthub.db.migrate import upgrade

    name = f"agenthub_tpl_{uuid.uuid4().hex[:10]}"
    _admin_execute(pg_admin_url, f'CREATE DATABASE "{name}"')
    upgrade(url_with_database(pg_admin_url, name))
    yield name
    _admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_database_url(pg_admin_url: str) -> Iterator[str]:
    """A brand-new database with no schema at all."""
    name = f"agenthub_empty_{uuid.uuid4().hex[:10]}"
    _admin_execute(pg_admin_url, f'CREATE DATABASE "{name}"')
    yield url_with_database(pg_admin_url, name)
    _admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(pg_admin_url: str, template_database: str) -> Iterator[str]:
    """A migrated database of this test's own."""
    name = f"agenthub_t_{uuid.uuid4().hex[:10]}"
    _admin_execute(pg_admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield url_with_database(pg_admin_url, name)
    _admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Redis ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The embedded Redis server (None when REDIS_URL names one)."""
    if os.environ.get("REDIS_URL"):
        yield None
        return
    from agenthub.embedded import EmbeddedRedis

    server = EmbeddedRedis(data_dir=tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


def worker_redis_url(url: str, worker: str | None = None) -> str:
    """`url` on this pytest-xdist worker's own database number (gw0: +0, gw1: +1, ...).

    Each test flushes its Redis database: two workers sharing the server named by REDIS_URL must
    not share a database. Outside xdist the URL is unchanged.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "") if worker is None else worker
    if not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    number = parts.path.strip("/")
    database = (int(number) if number else 0) + int(worker.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture
def redis_url(redis_server: object) -> str:
    import redis

    from agenthub.embedded import EmbeddedRedis

    if isinstance(redis_server, EmbeddedRedis):
        redis_server.start()  # a test may have stopped it
        url = redis_server.url
    else:
        url = worker_redis_url(os.environ["REDIS_URL"])
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


# --- Keys and application environment ----------------------------------------------------------


@pytest.fixture(scope="session")
def rsa_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def rsa_public_pem(rsa_private_key: rsa.RSAPrivateKey) -> str:
    return (
        rsa_private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="session")
def fernet_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def base_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, rsa_public_pem: str, fernet_key: str
) -> Iterator[None]:
    """Settings for a test: local-like `test` env, its own state dir, a known key pair."""
    from agenthub import composition

    for name in list(os.environ):
        if name.startswith("AGENTHUB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AGENTHUB_ENV", "test")
    monkeypatch.setenv("AGENTHUB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("AGENTHUB_AUTH__ISSUER", TEST_ISSUER)
    monkeypatch.setenv("AGENTHUB_AUTH__AUDIENCE", TEST_AUDIENCE)
    monkeypatch.setenv("AGENTHUB_AUTH__PUBLIC_KEY_PEM", rsa_public_pem)
    monkeypatch.setenv("AGENTHUB_CRYPTO__FERNET_KEYS", fernet_key)
    monkeypatch.setenv("AGENTHUB_TOOLS__SSRF_ALLOW", "127.0.0.1/32,localhost")
    composition.reset()
    yield
    composition.reset()


@pytest.fixture
def app_env(
    base_env: None, monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str
) -> Iterator[None]:
    """A full application environment on this test's own PostgreSQL database and Redis."""
    from agenthub import composition

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    composition.reset()
    yield
    composition.reset()
