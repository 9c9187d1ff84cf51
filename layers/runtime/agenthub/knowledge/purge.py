"""A tenant's vectors and files, removed when the tenant goes.

`purge_tenant` drops the tenant's Chroma database (every collection, every vector) and deletes
every S3 object under `tenant/{id}/` (knowledge documents and any other file of the tenant).
`sweep` does the same for tenants that no longer exist (the retention run calls it, so a
deletion whose purge was interrupted is finished later).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from agenthub.knowledge.chroma import ChromaClient
from agenthub.observability import get_logger
from agenthub.storage.objects import ObjectStore, tenant_prefix


@dataclass(frozen=True)
class PurgeReport:
    tenants: tuple[str, ...] = ()
    vector_databases: int = 0
    files: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)


class TenantDataPurger:
    def __init__(
        self,
        *,
        chroma: Callable[[], ChromaClient] | None,
        store: Callable[[], ObjectStore] | None,
    ) -> None:
        self._chroma = chroma
        self._store = store

    def purge_tenant(self, tenant_id: str) -> PurgeReport:
        """Remove the tenant's vectors and files; raises if a store fails (nothing to hide)."""
        dropped = self._chroma is not None and self._chroma().drop_tenant(tenant_id)
        files = 0
        if self._store is not None:
            files = self._store().delete_prefix(
                tenant_id=tenant_id, prefix=tenant_prefix(tenant_id)
            )
        get_logger().info(
            "tenant data purged",
            extra={"tenant_id": tenant_id, "vectors": bool(dropped), "files": files},
        )
        return PurgeReport(tenants=(tenant_id,), vector_databases=int(dropped), files=files)

    def sweep(self, known_tenants: Collection[str]) -> PurgeReport:
        """Purge the tenants that have vectors or files but no longer exist."""
        leftover: set[str] = set()
        if self._chroma is not None:
            leftover |= set(self._chroma().list_tenant_databases())
        if self._store is not None:
            leftover |= set(self._store().tenant_ids_with_files())
        gone = sorted(leftover - set(known_tenants))
        databases = files = 0
        errors: list[str] = []
        for tenant_id in gone:
            try:
                report = self.purge_tenant(tenant_id)
            except Exception as exc:  # one tenant's failure must not stop the others
                get_logger().warning(
                    "tenant data purge failed",
                    extra={"tenant_id": tenant_id, "error": type(exc).__name__},
                )
                errors.append(tenant_id)
                continue
            databases += report.vector_databases
            files += report.files
        return PurgeReport(
            tenants=tuple(gone), vector_databases=databases, files=files, errors=tuple(errors)
        )
