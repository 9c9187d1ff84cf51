"""Who makes an admin change, and what their role lets them touch.

`platform_admin` manages everything: every tenant, the global agents and tools. `tenant_admin`
manages its own tenant's settings, LLM config and permissions, and may read the global
catalogue. Refusals are 403 (`PermissionDeniedError`).
"""

from __future__ import annotations

from dataclasses import dataclass

from agenthub.auth.principal import PLATFORM_ADMIN, TENANT_ADMIN
from agenthub.errors import PermissionDeniedError


@dataclass(frozen=True)
class Actor:
    user_id: str
    tenant_id: str
    roles: frozenset[str]
    request_id: str | None = None

    @property
    def is_platform_admin(self) -> bool:
        return PLATFORM_ADMIN in self.roles

    @property
    def is_admin(self) -> bool:
        return self.is_platform_admin or TENANT_ADMIN in self.roles

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDeniedError("this operation requires an admin role")

    def require_platform_admin(self, what: str) -> None:
        if not self.is_platform_admin:
            raise PermissionDeniedError(f"only a platform admin may {what}")

    def require_tenant(self, tenant_id: str) -> None:
        """A platform admin may manage any tenant; a tenant admin only their own."""
        self.require_admin()
        if not self.is_platform_admin and tenant_id != self.tenant_id:
            raise PermissionDeniedError("a tenant admin may only manage their own tenant")
