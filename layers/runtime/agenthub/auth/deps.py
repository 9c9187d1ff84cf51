"""FastAPI dependencies: who is calling, for which tenant, with which role.

    def chat(tenant_id: str, principal: TenantPrincipal) -> ...
    def create_agent(body: AgentCreate, admin: AdminPrincipal) -> ...

Missing or bad credentials are 401 (`AuthenticationError`), a valid token without the right is
403 (`PermissionDeniedError`); both leave as the JSON error body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agenthub.auth.jwt import JwtVerifier
from agenthub.auth.principal import PLATFORM_ADMIN, TENANT_ADMIN, Principal
from agenthub.errors import AuthenticationError, ConfigurationError, PermissionDeniedError
from agenthub.observability import bind_log_keys

# Declares the scheme in OpenAPI; the errors are ours (auto_error=False), not FastAPI's.
_bearer_scheme = HTTPBearer(
    auto_error=False, bearerFormat="JWT", description="The end user's RS256 JWT"
)


def _why_no_bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        return "missing Authorization header (expected 'Bearer <token>')"
    scheme, _, _ = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return "Authorization header must use the Bearer scheme"
    return "Authorization header has an empty bearer token"


VERIFIER_STATE = "jwt_verifier"


def get_verifier(request: Request) -> JwtVerifier:
    """The app's verifier. The entry point that builds the app wires it
    (`app.state.jwt_verifier`, a provider from the composition root): this module takes it as
    an argument instead of reaching for a process-wide one."""
    provider: Callable[[], JwtVerifier] | None = getattr(request.app.state, VERIFIER_STATE, None)
    if provider is None:
        raise ConfigurationError("no JWT verifier is wired into this app (app.state.jwt_verifier)")
    return provider()


def bearer_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> str:
    """The raw token of `Authorization: Bearer <token>`."""
    if credentials is None:
        raise AuthenticationError(_why_no_bearer_token(request.headers.get("authorization")))
    return credentials.credentials


def get_current_principal(
    request: Request,
    token: Annotated[str, Depends(bearer_token)],
    verifier: Annotated[JwtVerifier, Depends(get_verifier)],
) -> Principal:
    """The verified caller; also tags this request's log lines with tenant and user."""
    principal = verifier.verify(token)
    request.state.principal = principal
    bind_log_keys(tenant_id=principal.tenant_id, user_id=principal.user_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]


def get_tenant_principal(request: Request, principal: CurrentPrincipal) -> Principal:
    """The caller, who must belong to the route's `{tenant_id}`.

    No role bypasses this: end-user routes read and write a user's own conversations.
    """
    path_tenant = request.path_params.get("tenant_id")
    if path_tenant is None:
        raise ConfigurationError("TenantPrincipal needs a route with a {tenant_id} path parameter")
    if principal.tenant_id != path_tenant:
        raise PermissionDeniedError("token does not belong to this tenant")
    return principal


TenantPrincipal = Annotated[Principal, Depends(get_tenant_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that lets through callers holding at least one of `roles`."""
    if not roles:
        raise ValueError("require_roles needs at least one role")
    wanted = frozenset(roles)
    names = ", ".join(sorted(wanted))

    def _has_role(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any_role(*wanted):
            raise PermissionDeniedError(f"this operation requires one of the roles: {names}")
        return principal

    return _has_role


AdminPrincipal = Annotated[Principal, Depends(require_roles(PLATFORM_ADMIN, TENANT_ADMIN))]
