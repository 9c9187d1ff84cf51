"""`/api/admin/tenants/{tenant_id}/data-sources`: the tenant's databases for DB_QUERY tools.

A data source is a PostgreSQL URL, stored encrypted and shown with its password masked. Platform
admins manage every tenant's; a tenant admin only their own (403 for any other tenant).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from agenthub.api.admin.deps import AdminActor, IfMatch, set_etag, version_from
from agenthub.db.models import TENANT_ID_PATTERN
from agenthub.services.admin import Changed, ChangeRunner, ReloadStatus
from agenthub.services.admin.data_sources import DataSourceAdmin, DataSourceView
from agenthub.tools.db_query import DATA_SOURCE_NAME

TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN)]
Name = Annotated[
    str, Path(min_length=1, max_length=63, description="the data source's name, e.g. analytics")
]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid token"},
    403: {"description": "another tenant's admin"},
    404: {"description": "no such tenant or data source"},
    409: {"description": "stale version"},
    422: {"description": "invalid input (bad URL, refused host); details name the field"},
}


def data_source_admin() -> DataSourceAdmin:
    from agenthub.composition import get_keyring, get_reload_publisher, get_sessionmaker

    runner = ChangeRunner(get_sessionmaker(), get_reload_publisher())
    return DataSourceAdmin(runner, keyring=get_keyring())


DataSources = Annotated[DataSourceAdmin, Depends(data_source_admin)]


class DataSourcePut(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "postgresql://reporting:secret@analytics.internal:5432/sales",
                    "description": "Sales warehouse (read-only role)",
                }
            ]
        },
    )

    url: SecretStr = Field(
        min_length=1,
        max_length=2000,
        description=(
            "postgresql://user:password@host:port/database[?sslmode=...]; stored encrypted, "
            "shown masked; the host must pass the SSRF policy. Use a read-only role."
        ),
    )
    description: str = Field(default="", max_length=2000)
    version: int | None = Field(
        default=None, ge=1, description='replacing: the version you read (or If-Match: "<n>")'
    )


class DataSourcePublic(BaseModel):
    tenant_id: str
    id: uuid.UUID
    name: str
    description: str
    url: str = Field(description="the URL with its password masked")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: DataSourceView) -> Self:
        return cls(
            tenant_id=view.tenant_id,
            id=view.id,
            name=view.name,
            description=view.description,
            url=view.url,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class DataSourceChange(DataSourcePublic):
    reload: ReloadStatus

    @classmethod
    def of_change(cls, changed: Changed[DataSourceView]) -> Self:
        return cls(**DataSourcePublic.of(changed.value).model_dump(), reload=changed.reload)


class DataSourceList(BaseModel):
    items: list[DataSourcePublic]


router = APIRouter(
    prefix="/api/admin/tenants/{tenant_id}/data-sources", tags=["data sources"], responses=ERRORS
)


@router.get("", response_model=DataSourceList, summary="The tenant's data sources (URLs masked)")
def list_data_sources(tenant_id: TenantId, actor: AdminActor, sources: DataSources) -> Any:
    return DataSourceList(
        items=[DataSourcePublic.of(v) for v in sources.list(actor, tenant_id=tenant_id)]
    )


@router.get("/{name}", response_model=DataSourcePublic, summary="One data source (URL masked)")
def get_data_source(
    tenant_id: TenantId, name: Name, actor: AdminActor, sources: DataSources, response: Response
) -> Any:
    view = sources.get(actor, tenant_id=tenant_id, name=name)
    set_etag(response, view.version)
    return DataSourcePublic.of(view)


@router.put(
    "/{name}",
    response_model=DataSourceChange,
    summary="Create or replace a data source (the URL is encrypted, never returned)",
)
def put_data_source(
    tenant_id: TenantId,
    name: Name,
    body: DataSourcePut,
    actor: AdminActor,
    sources: DataSources,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    changed = sources.put(
        actor,
        tenant_id=tenant_id,
        name=name,
        url=body.url.get_secret_value(),
        description=body.description,
        expected_version=version_from(if_match, body.version),
    )
    set_etag(response, changed.value.version)
    return DataSourceChange.of_change(changed)


@router.delete("/{name}", response_model=DataSourceChange, summary="Remove a data source")
def delete_data_source(
    tenant_id: TenantId, name: Name, actor: AdminActor, sources: DataSources
) -> Any:
    return DataSourceChange.of_change(sources.delete(actor, tenant_id=tenant_id, name=name))


__all__ = ["DATA_SOURCE_NAME", "router"]
