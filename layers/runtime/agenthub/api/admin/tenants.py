"""`/api/admin/tenants`: tenants, their settings, LLM config, permissions and tool secrets.

Platform admins manage every tenant; a tenant admin only their own (403 for any other).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from agenthub.api.admin.deps import (
    AdminActor,
    IfMatch,
    Permissions,
    Tenants,
    ToolSecrets,
    set_etag,
    version_from,
)
from agenthub.api.admin.schemas import (
    LlmConfigChange,
    LlmConfigPublic,
    LlmConfigPut,
    PermissionsChange,
    PermissionsPatch,
    PermissionsPublic,
    TenantChange,
    TenantCreate,
    TenantList,
    TenantPublic,
    TenantUpdate,
    ToolSecretChange,
    ToolSecretPut,
)
from agenthub.db.models import TENANT_ID_PATTERN
from agenthub.repositories import UNSET, UnsetType
from agenthub.services.admin import LlmChoice, LlmConfigInput

TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN)]
ToolRef = Annotated[str, Path(min_length=1, max_length=64, description="the tool's name or id")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid token"},
    403: {"description": "another tenant's admin, or a platform-admin-only change"},
    404: {"description": "no such tenant (or tool, or stored tool secret)"},
    409: {"description": "stale version, or the tenant exists"},
    422: {"description": "invalid input; the message and details name the field"},
}

router = APIRouter(prefix="/api/admin/tenants", tags=["tenants"], responses=ERRORS)


@router.post("", status_code=201, response_model=TenantChange, summary="Create a tenant")
def create_tenant(
    body: TenantCreate, actor: AdminActor, tenants: Tenants, response: Response
) -> Any:
    changed = tenants.create(actor, tenant_id=body.id, fields=body.model_dump(exclude={"id"}))
    set_etag(response, changed.value.tenant.version)
    return TenantChange.of_change(changed)


@router.get("", response_model=TenantList, summary="List tenants (a tenant admin: their own)")
def list_tenants(actor: AdminActor, tenants: Tenants) -> Any:
    return TenantList(items=[TenantPublic.of(v) for v in tenants.list(actor)])


@router.get("/{tenant_id}", response_model=TenantPublic, summary="Get a tenant")
def get_tenant(tenant_id: TenantId, actor: AdminActor, tenants: Tenants, response: Response) -> Any:
    view = tenants.get(actor, tenant_id=tenant_id)
    set_etag(response, view.tenant.version)
    return TenantPublic.of(view)


@router.patch("/{tenant_id}", response_model=TenantChange, summary="Change a tenant's settings")
def update_tenant(
    tenant_id: TenantId,
    body: TenantUpdate,
    actor: AdminActor,
    tenants: Tenants,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    changed = tenants.update(
        actor,
        tenant_id=tenant_id,
        expected_version=version_from(if_match, body.version),
        changes=body.changes(),
    )
    set_etag(response, changed.value.tenant.version)
    return TenantChange.of_change(changed)


@router.put(
    "/{tenant_id}/llm-config",
    response_model=LlmConfigChange,
    summary="Set the tenant's LLM (the API key is encrypted and never returned)",
)
def put_llm_config(
    tenant_id: TenantId,
    body: LlmConfigPut,
    actor: AdminActor,
    tenants: Tenants,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    api_key: str | UnsetType | None = UNSET
    if "api_key" in body.model_fields_set:
        api_key = None if body.api_key is None else body.api_key.get_secret_value()
    config = LlmConfigInput(
        model=LlmChoice(
            llm_model_id=body.llm_model_id, provider=body.provider, model_name=body.model_name
        ),
        base_url=body.base_url,
        temperature=body.temperature,
        max_tokens=body.max_tokens,
        api_key=api_key,
    )
    changed = tenants.put_llm_config(
        actor,
        tenant_id=tenant_id,
        config=config,
        expected_version=version_from(if_match, body.version),
    )
    set_etag(response, changed.value.version)
    return LlmConfigChange(**LlmConfigPublic.of(changed.value).model_dump(), reload=changed.reload)


@router.get(
    "/{tenant_id}/permissions",
    response_model=PermissionsPublic,
    summary="Every agent and tool, on or off for the tenant",
)
def get_permissions(
    tenant_id: TenantId, actor: AdminActor, permissions: Permissions, response: Response
) -> Any:
    view = permissions.get(actor, tenant_id=tenant_id)
    set_etag(response, view.version)
    return PermissionsPublic.of(view)


@router.patch(
    "/{tenant_id}/permissions",
    response_model=PermissionsChange,
    summary="Switch agents and tools on or off for the tenant (by name or id)",
)
def update_permissions(
    tenant_id: TenantId,
    body: PermissionsPatch,
    actor: AdminActor,
    permissions: Permissions,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    changed = permissions.update(
        actor,
        tenant_id=tenant_id,
        expected_version=version_from(if_match, body.version),
        agents=body.agents,
        tools=body.tools,
    )
    set_etag(response, changed.value.version)
    return PermissionsChange.of_change(changed)


@router.put(
    "/{tenant_id}/tools/{tool}/secret",
    response_model=ToolSecretChange,
    summary="Set the tenant's secret for a tenant_secret tool (encrypted, never returned)",
    description=(
        "Stores the credential the tool sends for this tenant. It does not switch the tool on: "
        "a tool the tenant had no permission for stays off until enabled in the permissions."
    ),
)
def put_tool_secret(
    tenant_id: TenantId, tool: ToolRef, body: ToolSecretPut, actor: AdminActor, secrets: ToolSecrets
) -> Any:
    changed = secrets.put(
        actor, tenant_id=tenant_id, tool=tool, secret=body.secret.get_secret_value()
    )
    return ToolSecretChange.of_change(changed)


@router.delete(
    "/{tenant_id}/tools/{tool}/secret",
    response_model=ToolSecretChange,
    summary="Remove the tenant's secret for a tool",
)
def delete_tool_secret(
    tenant_id: TenantId, tool: ToolRef, actor: AdminActor, secrets: ToolSecrets
) -> Any:
    return ToolSecretChange.of_change(secrets.delete(actor, tenant_id=tenant_id, tool=tool))
