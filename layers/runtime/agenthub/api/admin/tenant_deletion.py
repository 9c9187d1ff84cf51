"""`DELETE /api/admin/tenants/{tenant_id}`: a tenant with its data, vectors and files."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from agenthub.api.admin.deps import AdminActor, IfMatch, version_from
from agenthub.db.models import TENANT_ID_PATTERN
from agenthub.services.admin.changes import ChangeRunner
from agenthub.services.admin.tenant_deletion import TenantDeletionAdmin

TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN)]


def tenant_deletion_admin() -> TenantDeletionAdmin:
    from agenthub import composition
    from agenthub.knowledge.purge import TenantDataPurger

    def forget(tenant_id: str) -> None:
        # The config cache of a tenant that no longer exists: drop it now, not at its TTL.
        try:
            composition.get_config_cache().invalidate(tenant_id, new_version=-1)
        except Exception:  # Redis down: the TTL bounds it; the deletion itself is done
            from agenthub.observability import get_logger

            get_logger().warning("config cache of a deleted tenant not dropped")

    purger = TenantDataPurger(
        chroma=composition.get_chroma_client, store=composition.get_object_store
    )
    return TenantDeletionAdmin(
        ChangeRunner(composition.get_sessionmaker(), composition.get_reload_publisher()),
        purge=purger.purge_tenant,
        forget_cache=forget,
    )


Deletions = Annotated[TenantDeletionAdmin, Depends(tenant_deletion_admin)]


class TenantDeletedPublic(BaseModel):
    tenant_id: str
    vector_databases: int
    files: int


router = APIRouter(prefix="/api/admin/tenants", tags=["tenants"])


@router.delete(
    "/{tenant_id}",
    response_model=TenantDeletedPublic,
    summary="Delete a tenant with its data, vectors and files (platform admin)",
    responses={
        403: {"description": "not a platform admin"},
        404: {"description": "no such tenant"},
        409: {"description": "stale version, or the admin's own tenant"},
        422: {"description": "no version given (If-Match)"},
    },
)
def delete_tenant(
    tenant_id: TenantId, actor: AdminActor, deletions: Deletions, if_match: IfMatch = None
) -> Any:
    deleted = deletions.delete(
        actor, tenant_id=tenant_id, expected_version=version_from(if_match, None)
    )
    return TenantDeletedPublic(
        tenant_id=deleted.tenant_id,
        vector_databases=deleted.purge.vector_databases,
        files=deleted.purge.files,
    )
