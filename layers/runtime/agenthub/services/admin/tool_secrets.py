"""A tenant's credential for a tool with `auth_mode: tenant_secret`, set or removed by its admins.

The secret is Fernet-encrypted onto the tenant's permission row for the tool and never leaves:
responses and audit rows carry only whether one is set and its masked hint. A secret never grants
the tool: when the tenant has no permission row for it yet, the row is created switched off
(switch it on with the permissions).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from agenthub.crypto import KeyRing, mask_secret
from agenthub.db.models import ToolConfig
from agenthub.errors import DecryptionError, NotFoundError
from agenthub.repositories import PermissionRepository, TenantRepository, ToolConfigRepository
from agenthub.services.admin.actor import Actor
from agenthub.services.admin.audit import Snapshot, record_change
from agenthub.services.admin.changes import Changed, ChangeRunner, Outcome
from agenthub.services.admin.inputs import as_uuid

ENTITY = "tenant_tool_secret"


@dataclass(frozen=True)
class ToolSecretView:
    """Whether the tenant has a credential for the tool; never the credential itself."""

    tenant_id: str
    tool_id: uuid.UUID
    tool_name: str
    enabled: bool
    has_secret: bool
    secret_hint: str | None

    def snapshot(self) -> Snapshot:
        return {
            "tool_id": self.tool_id,
            "tool_name": self.tool_name,
            "enabled": self.enabled,
            "has_secret": self.has_secret,
            "secret_hint": self.secret_hint,
        }


def secret_hint(keyring: KeyRing, encrypted_secret: bytes | None) -> str | None:
    """The masked hint of a stored secret; None when there is none or it cannot be decrypted."""
    if encrypted_secret is None:
        return None
    # No hint column on the permission row: the admin function holds the keys anyway, and only
    # the mask leaves this frame.
    try:
        return mask_secret(keyring.decrypt(encrypted_secret).get_secret_value())
    except DecryptionError:
        return None  # its key was rotated out: still set, just not showable


class ToolSecretAdmin:
    def __init__(self, runner: ChangeRunner, *, keyring: KeyRing) -> None:
        self._runner = runner
        self._keyring = keyring

    def put(
        self, actor: Actor, *, tenant_id: str, tool: str, secret: str
    ) -> Changed[ToolSecretView]:
        """Store (or replace) the tenant's secret for `tool` (its name or id)."""
        actor.require_tenant(tenant_id)
        # Encrypt outside the transaction; the plain secret goes no further than this frame.
        encrypted, hint = self._keyring.encrypt(secret), mask_secret(secret)

        def work(db: Session) -> Outcome[ToolSecretView]:
            current = self._current(db, tenant_id=tenant_id, tool=tool)
            PermissionRepository(db).set_tool(
                tenant_id=tenant_id,
                tool_id=current.tool_id,
                enabled=current.enabled,
                encrypted_secret=encrypted,
            )
            after = replace(current, has_secret=True, secret_hint=hint)
            _audit(db, actor, "tenant.tool_secret.put", before=current, after=after)
            return Outcome(after, (tenant_id,))

        return self._runner.run(work, reason="tenant tool secret changed")

    def delete(self, actor: Actor, *, tenant_id: str, tool: str) -> Changed[ToolSecretView]:
        """Remove the tenant's secret for `tool`; 404 when none is stored."""
        actor.require_tenant(tenant_id)

        def work(db: Session) -> Outcome[ToolSecretView]:
            current = self._current(db, tenant_id=tenant_id, tool=tool)
            if not current.has_secret:
                raise NotFoundError(
                    f"tenant {tenant_id!r} has no secret for tool {current.tool_name!r}"
                )
            PermissionRepository(db).set_tool(
                tenant_id=tenant_id,
                tool_id=current.tool_id,
                enabled=current.enabled,
                encrypted_secret=None,
            )
            after = replace(current, has_secret=False, secret_hint=None)
            _audit(db, actor, "tenant.tool_secret.delete", before=current, after=after)
            return Outcome(after, (tenant_id,))

        return self._runner.run(work, reason="tenant tool secret removed")

    def _current(self, db: Session, *, tenant_id: str, tool: str) -> ToolSecretView:
        # Locking the tenant serialises this with permission changes of the same tenant.
        TenantRepository(db).lock(tenant_id)
        found = _live_tool(db, tool)
        permission = next(
            (
                p
                for p in PermissionRepository(db).list_tool_permissions(tenant_id=tenant_id)
                if p.tool_id == found.id
            ),
            None,
        )
        encrypted = None if permission is None else permission.encrypted_secret
        return ToolSecretView(
            tenant_id=tenant_id,
            tool_id=found.id,
            tool_name=found.name,
            enabled=permission is not None and permission.enabled,
            has_secret=encrypted is not None,
            secret_hint=secret_hint(self._keyring, encrypted),
        )


def _live_tool(db: Session, reference: str) -> ToolConfig:
    """The live (not deleted) tool a name or id refers to; 404 otherwise."""
    tools = ToolConfigRepository(db)
    tool_id = as_uuid(reference)
    found = tools.get(tool_id) if tool_id is not None else tools.get_by_name(reference)
    if found is None:
        raise NotFoundError(f"tool {reference!r} not found")
    return found


def _audit(
    db: Session, actor: Actor, action: str, *, before: ToolSecretView, after: ToolSecretView
) -> None:
    record_change(
        db,
        actor,
        tenant_id=after.tenant_id,
        action=action,
        entity_type=ENTITY,
        entity_id=after.tool_id,
        before=before.snapshot(),
        after=after.snapshot(),
    )
