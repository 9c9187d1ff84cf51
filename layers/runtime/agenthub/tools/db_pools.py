"""Connection pools of tenant data sources, one small pool per (tenant, data source, stored URL).

Owned by the composition root (one per warm container) and handed to DB_QUERY tools through
`ToolDependencies`. A pool is opened on first use: the URL is decrypted then, in memory only, its
host is SSRF-checked and the connection pinned to the checked address (`hostaddr`), so a DNS
change cannot move it elsewhere. A changed URL (a new token) gets a new pool and the old one is
closed; the least recently used pool goes when there are more than `max_pools`.

Every connection is read-only by default (`default_transaction_read_only`) and every
transaction the tool opens is read-only too: the guard at save is not the only wall.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from agenthub.tools.data_source_url import checked_addresses, parse_data_source_url
from agenthub.tools.ssrf import Resolver, system_resolver

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

Decrypt = Callable[[str], SecretStr]
PoolKey = tuple[str, str, str]


class DataSourcePools:
    def __init__(
        self,
        *,
        decrypt: Decrypt,
        allow: Callable[[], Sequence[str]],
        resolver: Resolver = system_resolver,
        max_pools: int = 32,
        max_size: int = 2,
        connect_timeout_s: int = 5,
    ) -> None:
        self._decrypt = decrypt
        self._allow = allow
        self._resolver = resolver
        self._max_pools = max_pools
        self._max_size = max_size
        self._connect_timeout_s = connect_timeout_s
        self._pools: OrderedDict[PoolKey, ConnectionPool[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pools)

    @contextmanager
    def connection(
        self, *, tenant_id: str, name: str, encrypted_url: str, wait_s: float
    ) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection of the tenant's data source (waits at most `wait_s` for one).

        Raises DecryptionError / ConfigurationError (the stored URL cannot be used),
        ValidationFailedError (it is not a valid URL), SsrfBlockedError (its host is refused),
        psycopg_pool.PoolTimeout and psycopg.OperationalError (it cannot be reached).
        """
        pool = self._pool((tenant_id, name, _fingerprint(encrypted_url)), encrypted_url)
        with pool.connection(timeout=wait_s) as conn:
            yield conn

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            pool.close(timeout=1.0)

    def _pool(self, key: PoolKey, encrypted_url: str) -> ConnectionPool[Any]:
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
            retired = [k for k in self._pools if k[:2] == key[:2]]  # the URL was changed
            pool = self._open(encrypted_url, name=f"{key[0]}:{key[1]}")
            self._pools[key] = pool
            closing = [self._pools.pop(k) for k in retired]
            while len(self._pools) > self._max_pools:
                closing.append(self._pools.popitem(last=False)[1])
        for old in closing:
            old.close(timeout=1.0)
        return pool

    def _open(self, encrypted_url: str, *, name: str) -> ConnectionPool[Any]:
        from psycopg.conninfo import make_conninfo
        from psycopg_pool import ConnectionPool

        source = parse_data_source_url(self._decrypt(encrypted_url).get_secret_value())
        addresses = checked_addresses(source, allow=self._allow(), resolver=self._resolver)
        params = dict(source.params)
        if addresses:
            params["hostaddr"] = str(addresses[0])  # connect only where the check looked
        params.setdefault("connect_timeout", str(self._connect_timeout_s))
        params["application_name"] = "agenthub-db-query"
        conninfo = make_conninfo(**params)
        return ConnectionPool(
            conninfo,
            min_size=0,
            max_size=self._max_size,
            kwargs={"autocommit": False, "options": "-c default_transaction_read_only=on"},
            configure=_read_only,
            open=True,
            name=name,
            max_idle=120.0,
            reconnect_timeout=10.0,
        )


def _read_only(conn: psycopg.Connection[Any]) -> None:
    conn.read_only = True  # every transaction psycopg opens: BEGIN READ ONLY


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()[:16]
