"""What every admin route shares: the acting admin, the `If-Match` version, the use cases."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request, Response

from agenthub.auth.deps import AdminPrincipal
from agenthub.errors import ValidationFailedError
from agenthub.services.admin import (
    Actor,
    AgentAdmin,
    CatalogueAdmin,
    ChangeRunner,
    MetricsAdmin,
    PermissionAdmin,
    ReloadAdmin,
    TenantAdmin,
    ToolAdmin,
    ToolSecretAdmin,
    redis_hit_rate,
)

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def get_actor(request: Request, principal: AdminPrincipal) -> Actor:
    return Actor(
        user_id=principal.user_id,
        tenant_id=principal.tenant_id,
        roles=principal.roles,
        request_id=str(getattr(request.state, "request_id", "") or "") or None,
    )


AdminActor = Annotated[Actor, Depends(get_actor)]
IfMatch = Annotated[
    str | None,
    Header(description='the version you read, as an entity tag: "3" (or a `version` field)'),
]


def version_from(if_match: str | None, body_version: int | None) -> int | None:
    """The version the client read: `If-Match: "<n>"` or the body's `version` (they must agree)."""
    if if_match is None:
        return body_version
    match = _ETAG.match(if_match)
    if match is None:
        raise ValidationFailedError(
            'invalid input: If-Match must be one version, as "3"',
            details=[{"field": "header.if-match", "message": 'expected "<version>"'}],
        )
    header_version = int(match.group(1))
    if body_version is not None and body_version != header_version:
        raise ValidationFailedError(
            "invalid input: If-Match and version disagree",
            details=[{"field": "version", "message": "differs from the If-Match header"}],
        )
    return header_version


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def _runner() -> ChangeRunner:
    from agenthub.composition import get_reload_publisher, get_sessionmaker

    return ChangeRunner(get_sessionmaker(), get_reload_publisher())


def agent_admin() -> AgentAdmin:
    return AgentAdmin(_runner())


def tool_admin() -> ToolAdmin:
    return ToolAdmin(_runner())


def tenant_admin() -> TenantAdmin:
    from agenthub.composition import get_keyring

    return TenantAdmin(_runner(), keyring=get_keyring())


def permission_admin() -> PermissionAdmin:
    from agenthub.composition import get_keyring

    return PermissionAdmin(_runner(), keyring=get_keyring())


def tool_secret_admin() -> ToolSecretAdmin:
    from agenthub.composition import get_keyring

    return ToolSecretAdmin(_runner(), keyring=get_keyring())


def reload_admin() -> ReloadAdmin:
    return ReloadAdmin(_runner())


def catalogue_admin() -> CatalogueAdmin:
    return CatalogueAdmin(_runner())


def metrics_admin() -> MetricsAdmin:
    from functools import partial

    from agenthub.composition import get_config_cache

    return MetricsAdmin(_runner(), hit_rate=partial(redis_hit_rate, get_config_cache()))


Agents = Annotated[AgentAdmin, Depends(agent_admin)]
Tools = Annotated[ToolAdmin, Depends(tool_admin)]
Tenants = Annotated[TenantAdmin, Depends(tenant_admin)]
Permissions = Annotated[PermissionAdmin, Depends(permission_admin)]
ToolSecrets = Annotated[ToolSecretAdmin, Depends(tool_secret_admin)]
Reloads = Annotated[ReloadAdmin, Depends(reload_admin)]
Catalogue = Annotated[CatalogueAdmin, Depends(catalogue_admin)]
Metrics = Annotated[MetricsAdmin, Depends(metrics_admin)]
