"""The audit trail of admin changes: who changed what, before and after (append only)."""

from __future__ import annotations

import builtins
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.orm import Session

from agenthub.db.models import AuditLog
from agenthub.errors import BadRequestError
from agenthub.repositories.common import guarded_write

MAX_PAGE_SIZE = 500


class AuditRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def record(
        self,
        *,
        tenant_id: str | None,
        actor: str,
        actor_tenant_id: str | None,
        action: str,
        entity_type: str,
        entity_id: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> AuditLog:
        """Append one entry; `tenant_id` None marks a change to global config (agents, tools).

        `before` / `after` may hold UUIDs, decimals and datetimes: they are stored as JSON.
        The caller must leave secrets out of them (store a hint, never a key).
        """
        entry = AuditLog(
            tenant_id=tenant_id,
            actor=actor,
            actor_tenant_id=actor_tenant_id,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            before=to_jsonable_python(before),
            after=to_jsonable_python(after),
            request_id=request_id,
        )
        with guarded_write(self.db, what=f"audit entry {action}"):
            self.db.add(entry)
        return entry

    def list(self, *, tenant_id: str | None, limit: int = 100) -> builtins.list[AuditLog]:
        """The newest entries of the tenant (or of global config when `tenant_id` is None)."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadRequestError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        scope = (
            AuditLog.tenant_id.is_(None) if tenant_id is None else AuditLog.tenant_id == tenant_id
        )
        statement = (
            select(AuditLog)
            .where(scope)
            .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
            .limit(limit)
        )
        return builtins.list(self.db.scalars(statement))
