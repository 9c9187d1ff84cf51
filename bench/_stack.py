"""What the benchmarks share: a database of their own, embedded Redis, the demo business API."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any


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


# The processes `business_api(own_process=True)` started (bench/load.py reports their CPU).
BUSINESS_API_PIDS: list[int] = []


def business_api(
    public_pem: str,
    *,
    issuer: str,
    audience: str,
    cleanup: contextlib.ExitStack,
    own_process: bool = False,
    customers_of_acme_for: tuple[str, ...] = (),
) -> str:
    """The demo business API (the tools' ERP/TMS stand-in) on a free port: in a thread of this
    process, or with `own_process` in a process of its own, so that under load it does not
    share an interpreter lock with the fake model server's threads (a real ERP would not).
    The tenants in `customers_of_acme_for` get the demo tenant acme's customers."""
    if own_process:
        return _business_api_process(
            public_pem, issuer, audience, customers_of_acme_for, cleanup=cleanup
        )
    from agenthub.demo import create_business_api, data
    from tests.support.servers import UvicornThread

    for tenant in customers_of_acme_for:
        data.CUSTOMERS.setdefault(tenant, data.CUSTOMERS["acme"])

    app = create_business_api(public_key_pem=public_pem, issuer=issuer, audience=audience)
    server = UvicornThread(app, name="business-api").start()
    cleanup.callback(server.stop)
    return str(server.base_url)


def _business_api_process(
    public_pem: str,
    issuer: str,
    audience: str,
    tenants: tuple[str, ...],
    *,
    cleanup: contextlib.ExitStack,
) -> str:
    import multiprocessing as mp

    context = mp.get_context("spawn")
    urls, stop = context.Queue(), context.Event()
    process = context.Process(
        target=_serve_business_api,
        args=(public_pem, issuer, audience, tenants, urls, stop),
        daemon=True,
    )
    process.start()
    BUSINESS_API_PIDS.append(int(process.pid or 0))
    cleanup.callback(process.join, 10)
    cleanup.callback(stop.set)
    return str(urls.get(timeout=120))


def _serve_business_api(
    public_pem: str, issuer: str, audience: str, tenants: tuple[str, ...], urls: Any, stop: Any
) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from agenthub.demo import create_business_api, data
    from tests.support.servers import UvicornThread

    for tenant in tenants:
        data.CUSTOMERS.setdefault(tenant, data.CUSTOMERS["acme"])

    app = create_business_api(public_key_pem=public_pem, issuer=issuer, audience=audience)
    server = UvicornThread(app, name="business-api").start()
    urls.put(str(server.base_url))
    stop.wait()
    server.stop()
