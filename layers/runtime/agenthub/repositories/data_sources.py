"""A tenant's data sources for DB_QUERY tools (`tenant_data_sources`): every query filters on
`tenant_id`, so a tenant's data source is never found under another tenant."""

from __future__ import annotations

import builtins
from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from agenthub.db.models import TenantDataSource
from agenthub.repositories.common import check_version, guarded_write, load_server_values


class DataSourceRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, *, tenant_id: str, name: str) -> TenantDataSource | None:
        return self.db.scalars(
            select(TenantDataSource).where(
                TenantDataSource.tenant_id == tenant_id, TenantDataSource.name == name
            )
        ).one_or_none()

    def list(self, *, tenant_id: str) -> builtins.list[TenantDataSource]:
        return builtins.list(
            self.db.scalars(
                select(TenantDataSource)
                .where(TenantDataSource.tenant_id == tenant_id)
                .order_by(TenantDataSource.name)
            )
        )

    def put(
        self,
        *,
        tenant_id: str,
        name: str,
        encrypted_url: bytes,
        url_hint: str,
        description: str,
        expected_version: int | None = None,
    ) -> tuple[TenantDataSource, bool]:
        """Create or replace the tenant's data source `name`; (row, created)."""
        what = f"data source {name!r}"
        found = self.get(tenant_id=tenant_id, name=name)
        with guarded_write(self.db, what=what):
            if found is None:
                if expected_version is not None:
                    check_version(actual=0, expected=expected_version, what=what)
                found = TenantDataSource(tenant_id=tenant_id, name=name)
                self.db.add(found)
                created = True
            else:
                check_version(actual=found.version, expected=expected_version, what=what)
                created = False
            found.encrypted_url = encrypted_url
            found.url_hint = url_hint
            found.description = description
        load_server_values(self.db, found)
        return found, created

    def reencrypt_urls(self, *, tenant_id: str, rotate: Callable[[bytes], bytes]) -> int:
        """Replace each of the tenant's stored URLs with `rotate(url)`; the count."""
        rows = builtins.list(
            self.db.scalars(
                select(TenantDataSource)
                .where(TenantDataSource.tenant_id == tenant_id)
                .order_by(TenantDataSource.name)
                .with_for_update()
            )
        )
        for row in rows:
            row.encrypted_url = rotate(row.encrypted_url)
        # The row's version moves too: an admin holding the old one must read it again.
        self.db.flush()
        return len(rows)

    def delete(self, *, tenant_id: str, name: str) -> bool:
        with guarded_write(self.db, what=f"data source {name!r}"):
            result = self.db.execute(
                delete(TenantDataSource).where(
                    TenantDataSource.tenant_id == tenant_id, TenantDataSource.name == name
                )
            )
        return bool(getattr(result, "rowcount", 0))
