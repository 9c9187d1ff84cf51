"""Who is calling: the verified identity taken from the end user's JWT."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

PLATFORM_ADMIN = "platform_admin"
TENANT_ADMIN = "tenant_admin"
KNOWN_ROLES: frozenset[str] = frozenset({PLATFORM_ADMIN, TENANT_ADMIN})


@dataclass(frozen=True)
class Principal:
    """A caller whose token was verified.

    `token` is the raw JWT, kept so tools can forward it to business APIs; it is a `SecretStr`
    and left out of `repr` so it never lands in a log line by accident.
    """

    user_id: str
    tenant_id: str
    roles: frozenset[str]
    token: SecretStr = field(repr=False, compare=False)
    claims: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def is_platform_admin(self) -> bool:
        return PLATFORM_ADMIN in self.roles

    @property
    def is_tenant_admin(self) -> bool:
        return TENANT_ADMIN in self.roles

    def has_any_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)
