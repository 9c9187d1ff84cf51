"""Authentication (RS256 JWT) and authorization (tenant match, admin roles).

Names are imported on first use (PEP 562): the FastAPI dependencies (`auth.deps`) pull in
FastAPI, which the chat function does not load; verifying a token needs only `auth.jwt`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_MODULE_OF = {
    **dict.fromkeys(
        (
            "AdminPrincipal",
            "CurrentPrincipal",
            "TenantPrincipal",
            "bearer_token",
            "get_current_principal",
            "get_tenant_principal",
            "get_verifier",
            "require_roles",
        ),
        "agenthub.auth.deps",
    ),
    **dict.fromkeys(
        ("DevKeyPair", "ensure_dev_key_pair", "mint_token", "public_jwk"), "agenthub.auth.devkeys"
    ),
    **dict.fromkeys(("JwtVerifier",), "agenthub.auth.jwt"),
    **dict.fromkeys(
        ("KNOWN_ROLES", "PLATFORM_ADMIN", "TENANT_ADMIN", "Principal"), "agenthub.auth.principal"
    ),
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


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
