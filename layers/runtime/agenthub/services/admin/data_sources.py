"""A tenant's data sources for DB_QUERY tools, managed by its admins (or a platform admin).

The URL is checked (a PostgreSQL URL with safe parameters only, its host through the same SSRF
policy as tool URLs), Fernet-encrypted on write and never leaves: responses and audit rows carry
the URL with its password masked. Like every admin change: audited, the tenant's config version
bumped in the same transaction, a reload sent after the commit.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from agenthub.crypto import KeyRing
from agenthub.db.models import TenantDataSource
from agenthub.errors import NotFoundError, SsrfBlockedError
from agenthub.repositories import DataSourceRepository, TenantRepository
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.audit import Snapshot, record_change
from agenthub.services.admin.changes import Changed, ChangeRunner, Outcome
from agenthub.services.admin.inputs import invalid
from agenthub.settings import get_settings
from agenthub.tools.data_source_url import checked_addresses, parse_data_source_url
from agenthub.tools.db_query import DATA_SOURCE_NAME
from agenthub.tools.ssrf import Resolver, system_resolver

ENTITY = "tenant_data_source"
MAX_DESCRIPTION_CHARS = 2000


@dataclass(frozen=True)
class DataSourceView:
    """A data source as admins see it: the URL only masked."""

    tenant_id: str
    id: uuid.UUID
    name: str
    description: str
    url: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: TenantDataSource) -> DataSourceView:
        return cls(
            tenant_id=row.tenant_id,
            id=row.id,
            name=row.name,
            description=row.description,
            url=row.url_hint,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def snapshot(self) -> Snapshot:
        return {"name": self.name, "description": self.description, "url": self.url}


class DataSourceAdmin:
    def __init__(
        self, runner: ChangeRunner, *, keyring: KeyRing, resolver: Resolver = system_resolver
    ) -> None:
        self._runner = runner
        self._keyring = keyring
        self._resolver = resolver

    def list(self, actor: Actor, *, tenant_id: str) -> list[DataSourceView]:
        actor.require_tenant(tenant_id)

        def work(db: Session) -> list[DataSourceView]:
            TenantRepository(db).require(tenant_id)
            rows = DataSourceRepository(db).list(tenant_id=tenant_id)
            return [DataSourceView.of(row) for row in rows]

        return self._runner.read(work)

    def get(self, actor: Actor, *, tenant_id: str, name: str) -> DataSourceView:
        actor.require_tenant(tenant_id)

        def work(db: Session) -> DataSourceView:
            return DataSourceView.of(_require(db, tenant_id=tenant_id, name=name))

        return self._runner.read(work)

    def put(
        self,
        actor: Actor,
        *,
        tenant_id: str,
        name: str,
        url: str,
        description: str = "",
        expected_version: int | None = None,
    ) -> Changed[DataSourceView]:
        """Create or replace the tenant's data source `name` (a version, if given, must match)."""
        actor.require_tenant(tenant_id)
        _check_name(name)
        if len(description) > MAX_DESCRIPTION_CHARS:
            raise invalid("description", f"at most {MAX_DESCRIPTION_CHARS} characters")
        source = parse_data_source_url(url)
        try:
            checked_addresses(
                source, allow=get_settings().tools.ssrf_allow, resolver=self._resolver
            )
        except SsrfBlockedError as exc:
            raise invalid("url", exc.message) from exc
        # Encrypted outside the transaction; the plain URL goes no further than this frame.
        encrypted, hint = self._keyring.encrypt(url.strip()), source.masked()

        def work(db: Session) -> Outcome[DataSourceView]:
            TenantRepository(db).lock(tenant_id)
            repo = DataSourceRepository(db)
            before = repo.get(tenant_id=tenant_id, name=name)
            before_view = DataSourceView.of(before) if before is not None else None
            row, created = repo.put(
                tenant_id=tenant_id,
                name=name,
                encrypted_url=encrypted,
                url_hint=hint,
                description=description,
                expected_version=expected_version,
            )
            after = DataSourceView.of(row)
            record_change(
                db,
                actor,
                tenant_id=tenant_id,
                action="tenant.data_source.create" if created else "tenant.data_source.replace",
                entity_type=ENTITY,
                entity_id=row.id,
                before=before_view.snapshot() if before_view else None,
                after=after.snapshot(),
            )
            return Outcome(after, (tenant_id,))

        return self._runner.run(work, reason="tenant data source changed")

    def delete(self, actor: Actor, *, tenant_id: str, name: str) -> Changed[DataSourceView]:
        actor.require_tenant(tenant_id)

        def work(db: Session) -> Outcome[DataSourceView]:
            TenantRepository(db).lock(tenant_id)
            current = DataSourceView.of(_require(db, tenant_id=tenant_id, name=name))
            DataSourceRepository(db).delete(tenant_id=tenant_id, name=name)
            record_change(
                db,
                actor,
                tenant_id=tenant_id,
                action="tenant.data_source.delete",
                entity_type=ENTITY,
                entity_id=current.id,
                before=current.snapshot(),
                after=None,
            )
            return Outcome(current, (tenant_id,))

        return self._runner.run(work, reason="tenant data source removed")


def _require(db: Session, *, tenant_id: str, name: str) -> TenantDataSource:
    TenantRepository(db).require(tenant_id)
    found = DataSourceRepository(db).get(tenant_id=tenant_id, name=name)
    if found is None:
        raise NotFoundError(f"tenant {tenant_id!r} has no data source {name!r}")
    return found


def _check_name(name: str) -> None:
    if not re.fullmatch(DATA_SOURCE_NAME, name):
        raise invalid("name", "a lowercase letter, then up to 62 lowercase letters, digits or '_'")
