"""Config reload messages: after an admin change commits, tell every container to reload.

The message goes to the reload SQS queue; `functions/config_reload` consumes it (bumps the
tenants' config versions and invalidates their cache entries). When the queue cannot be reached
the change is still committed: the caller reports the reload as pending, and the cache TTL
bounds the staleness.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from agenthub.observability import get_logger

ALL_TENANTS: Literal["*"] = "*"


@dataclass(frozen=True)
class ReloadMessage:
    tenant_ids: tuple[str, ...] | Literal["*"]
    reason: str
    config_version: int | None = None
    sent_at: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "tenant_ids": self.tenant_ids
                if self.tenant_ids == ALL_TENANTS
                else list(self.tenant_ids),
                "reason": self.reason,
                "config_version": self.config_version,
                "sent_at": self.sent_at or datetime.now(UTC).isoformat(),
            }
        )

    @classmethod
    def from_json(cls, body: str) -> ReloadMessage:
        """Parse a queue message; anything malformed raises ValueError (a poison message)."""
        data: Any = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("a reload message is a JSON object")
        tenant_ids = data.get("tenant_ids")
        if tenant_ids != ALL_TENANTS and not (
            isinstance(tenant_ids, list)
            and tenant_ids
            and all(isinstance(t, str) and t for t in tenant_ids)
        ):
            raise ValueError('tenant_ids must be "*" or a non-empty list of tenant ids')
        reason = data.get("reason")
        if not isinstance(reason, str) or not reason:
            raise ValueError("reason must be a non-empty string")
        version = data.get("config_version")
        if version is not None and not isinstance(version, int):
            raise ValueError("config_version must be an integer")
        ids: tuple[str, ...] | Literal["*"] = (
            "*" if tenant_ids == ALL_TENANTS else tuple(tenant_ids)
        )
        return cls(
            tenant_ids=ids,
            reason=reason,
            config_version=version,
            sent_at=str(data.get("sent_at") or ""),
        )


@dataclass(frozen=True)
class ReloadOutcome:
    status: Literal["queued", "pending"]
    message_id: str | None = None
    detail: str = ""


class SqsReloadPublisher:
    """Sends reload messages to the queue; never raises: a failure is a `pending` outcome."""

    def __init__(self, client: Any, queue_url: str | None) -> None:
        self._client = client
        self._queue_url = queue_url

    def publish(
        self,
        *,
        tenant_ids: Sequence[str] | Literal["*"],
        reason: str,
        config_version: int | None = None,
    ) -> ReloadOutcome:
        ids: tuple[str, ...] | Literal["*"] = (
            "*" if tenant_ids == ALL_TENANTS else tuple(sorted(set(tenant_ids)))
        )
        if ids != ALL_TENANTS and not ids:
            return ReloadOutcome(status="queued", detail="no tenant affected")
        if not self._queue_url:
            get_logger().warning("reload queue not configured; reload pending")
            return ReloadOutcome(status="pending", detail="the reload queue is not configured")
        message = ReloadMessage(tenant_ids=ids, reason=reason, config_version=config_version)
        try:
            sent = self._client.send_message(
                QueueUrl=self._queue_url, MessageBody=message.to_json()
            )
        except Exception as exc:  # botocore errors, timeouts, connection failures
            get_logger().warning(
                "reload message not sent; reload pending", extra={"error": type(exc).__name__}
            )
            return ReloadOutcome(status="pending", detail="the reload queue is unreachable")
        return ReloadOutcome(status="queued", message_id=str(sent.get("MessageId")))
