"""Authentication (RS256 JWT) and authorization (tenant match, admin roles).

Importing this package pulls in FastAPI (for the dependencies); code that only verifies or
mints tokens can import `agenthub.auth.jwt` or `agenthub.auth.devkeys` directly.
"""

from agenthub.auth.deps import (
    AdminPrincipal,
    CurrentPrincipal,
    TenantPrincipal,
    bearer_token,
    get_current_principal,
    get_tenant_principal,
    get_verifier,
    require_roles,
)
from agenthub.auth.devkeys import DevKeyPair, ensure_dev_key_pair, mint_token, public_jwk
from agenthub.auth.jwt import JwtVerifier
from agenthub.auth.principal import KNOWN_ROLES, PLATFORM_ADMIN, TENANT_ADMIN, Principal

__all__ = [
    "KNOWN_ROLES",
    "PLATFORM_ADMIN",
    "TENANT_ADMIN",
    "AdminPrincipal",
    "CurrentPrincipal",
    "DevKeyPair",
    "JwtVerifier",
    "Principal",
    "TenantPrincipal",
    "bearer_token",
    "ensure_dev_key_pair",
    "get_current_principal",
    "get_tenant_principal",
    "get_verifier",
    "mint_token",
    "public_jwk",
    "require_roles",
]
