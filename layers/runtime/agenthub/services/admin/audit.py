"""The audit row every admin change writes, in the change's own transaction.

Snapshots are built from explicit field lists by each resource module (never a whole row), so a
secret cannot slip in: API keys appear only as "set or not" and a masked hint.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agenthub.repositories import AuditRepository
from agenthub.services.admin.actor import Actor

Snapshot = dict[str, Any]


def record_change(
    db: Session,
    actor: Actor,
    *,
    tenant_id: str | None,
    action: str,
    entity_type: str,
    entity_id: object,
    before: Snapshot | None,
    after: Snapshot | None,
) -> None:
    """Append the audit row; `tenant_id` None marks a change to global config."""
    AuditRepository(db).record(
        tenant_id=tenant_id,
        actor=actor.user_id,
        actor_tenant_id=actor.tenant_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
        request_id=actor.request_id,
    )
