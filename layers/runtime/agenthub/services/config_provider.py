"""Where a chat turn gets its tenant's runtime config: reused per config version while warm.

Reading the tenant's `config_version` is one indexed query; the full config is rebuilt from
PostgreSQL only when the version moved. (The Redis-backed cache of the admin issue sits in front
of this with the same interface.)
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy.orm import Session, sessionmaker

from agenthub.domain import TenantRuntimeConfig
from agenthub.errors import NotFoundError
from agenthub.repositories import TenantRepository
from agenthub.services.runtime_config import load_runtime_config


class DatabaseConfigSource:
    def __init__(self, sessions: sessionmaker[Session], *, max_tenants: int = 256) -> None:
        self._sessions = sessions
        self._max = max_tenants
        self._configs: OrderedDict[str, TenantRuntimeConfig] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tenant_id: str) -> TenantRuntimeConfig:
        with self._sessions() as db:
            version = TenantRepository(db).config_version(tenant_id=tenant_id)
            if version is None:
                raise NotFoundError(f"tenant {tenant_id!r} does not exist")
            with self._lock:
                cached = self._configs.get(tenant_id)
            if cached is not None and cached.config_version == version:
                return cached
            config = load_runtime_config(db, tenant_id=tenant_id)
        with self._lock:
            self._configs[tenant_id] = config
            self._configs.move_to_end(tenant_id)
            while len(self._configs) > self._max:
                self._configs.popitem(last=False)
        return config
