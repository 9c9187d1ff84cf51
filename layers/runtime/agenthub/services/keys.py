"""Key rotation: re-encrypt every stored secret under the first (newest) Fernet key.

Procedure: put the new key first (`AGENTHUB_CRYPTO__FERNET_KEYS=new,old`), deploy, run
`agenthub keys rotate` (it publishes a reload for the tenants it changed), then drop the old key
once that reload has been processed, or once cached configs have expired (1 hour).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from agenthub.crypto import KeyRing
from agenthub.errors import DecryptionError
from agenthub.repositories import (
    DataSourceRepository,
    PermissionRepository,
    TenantLlmConfigRepository,
    TenantRepository,
)

LLM_API_KEYS = "tenant_llm_configs.encrypted_api_key"
TOOL_SECRETS = "tenant_tool_permissions.encrypted_secret"
DATA_SOURCE_URLS = "tenant_data_sources.encrypted_url"


@dataclass(frozen=True)
class RotationReport:
    """How many stored values were re-encrypted, per table column, and under which key."""

    counts: dict[str, int] = field(default_factory=dict)
    primary_fingerprint: str = ""
    tenant_ids: tuple[str, ...] = ()  # tenants whose stored values changed

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def rotate_all(db: Session, keyring: KeyRing) -> RotationReport:
    """Re-encrypt every stored secret in the caller's transaction (all or nothing).

    A value that no configured key decrypts stops the rotation with a DecryptionError naming
    where it is stored (never what it holds). Tenants whose values changed get a new config
    version in PostgreSQL; running containers only see it once the caller, after the commit,
    publishes a reload for `RotationReport.tenant_ids` (or their cache expires).
    """
    counts = {LLM_API_KEYS: 0, TOOL_SECRETS: 0, DATA_SOURCE_URLS: 0}
    changed: list[str] = []
    llm_configs = TenantLlmConfigRepository(db)
    permissions = PermissionRepository(db)
    tenants = TenantRepository(db)
    for tenant in tenants.list():
        rotated_keys = llm_configs.reencrypt_api_key(
            tenant_id=tenant.id, rotate=_rotating(keyring, f"{LLM_API_KEYS} of {tenant.id!r}")
        )
        rotated_secrets = permissions.reencrypt_tool_secrets(
            tenant_id=tenant.id, rotate=_rotating(keyring, f"{TOOL_SECRETS} of {tenant.id!r}")
        )
        rotated_urls = DataSourceRepository(db).reencrypt_urls(
            tenant_id=tenant.id, rotate=_rotating(keyring, f"{DATA_SOURCE_URLS} of {tenant.id!r}")
        )
        counts[LLM_API_KEYS] += rotated_keys
        counts[TOOL_SECRETS] += rotated_secrets
        counts[DATA_SOURCE_URLS] += rotated_urls
        if rotated_keys or rotated_secrets or rotated_urls:
            tenants.bump_config_version(tenant_id=tenant.id)
            changed.append(tenant.id)
    return RotationReport(
        counts=counts, primary_fingerprint=keyring.primary_fingerprint, tenant_ids=tuple(changed)
    )


def _rotating(keyring: KeyRing, where: str) -> Callable[[bytes], bytes]:
    def rotate(token: bytes) -> bytes:
        try:
            return keyring.rotate(token)
        except DecryptionError as exc:
            raise DecryptionError(f"{exc.message}: {where}; nothing was rotated") from exc

    return rotate
