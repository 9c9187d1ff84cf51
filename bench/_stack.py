"""What the benchmarks share: a database of their own, embedded Redis, the demo business API."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def temporary_database(state: Path, *, prefix: str) -> Iterator[str]:
    """A migrated database of our own: in the configured server, else embedded; dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from agenthub.db.engine import sqlalchemy_url
    from agenthub.db.migrate import upgrade
    from agenthub.embedded import start_postgres

    server_url = os.environ.get("DATABASE_URL") or start_postgres(state / "postgres")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        from agenthub import composition

        composition.reset()  # closes the pools that hold connections to it
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def embedded_redis(state: Path, cleanup: contextlib.ExitStack) -> str:
    from agenthub.embedded import EmbeddedRedis

    server = EmbeddedRedis(data_dir=state / "redis")
    url = server.start()
    cleanup.callback(server.stop)
    return url


def business_api(
    public_pem: str, *, issuer: str, audience: str, cleanup: contextlib.ExitStack
) -> str:
    from agenthub.demo import create_business_api
    from tests.support.servers import UvicornThread

    app = create_business_api(public_key_pem=public_pem, issuer=issuer, audience=audience)
    server = UvicornThread(app, name="business-api").start()
    cleanup.callback(server.stop)
    return str(server.base_url)
