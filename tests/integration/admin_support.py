"""Helpers for the admin tests (fixtures: admin_fixtures.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from agenthub.services.reload import ReloadMessage
from tests.support.lambda_events import HttpResult

PLATFORM = ("platform_admin",)
TENANT_ADMIN = ("tenant_admin",)
UNUSED_API = "http://127.0.0.1:9"  # the demo tools' URL; the admin tests never call it


@dataclass
class ReloadQueue:
    client: Any
    url: str

    def messages(self) -> list[ReloadMessage]:
        """Every message waiting on the queue (received and deleted)."""
        found: list[ReloadMessage] = []
        while True:
            reply = self.client.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            batch = reply.get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(ReloadMessage.from_json(message["Body"]))
                self.client.delete_message(
                    QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"]
                )


Admin = Callable[..., HttpResult]


def count(model: Any, *where: Any) -> int:
    from agenthub.composition import get_sessionmaker

    with get_sessionmaker()() as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def audit_rows(*where: Any) -> list[Any]:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import AuditLog

    with get_sessionmaker()() as db:
        statement = select(AuditLog).where(*where).order_by(AuditLog.id)
        return list(db.scalars(statement))


def all_audit_text() -> str:
    """Every audit row as JSON text (to look for what must never be there)."""
    return json.dumps(
        [
            {"before": r.before, "after": r.after, "action": r.action, "entity": r.entity_id}
            for r in audit_rows()
        ]
    )
