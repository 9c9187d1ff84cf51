"""Ingestion messages: one document to index, sent to the ingestion SQS queue."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from agenthub.observability import get_logger

_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@dataclass(frozen=True)
class IngestMessage:
    tenant_id: str
    document_id: uuid.UUID

    def to_json(self) -> str:
        return json.dumps({"tenant_id": self.tenant_id, "document_id": str(self.document_id)})

    @classmethod
    def from_json(cls, body: str) -> IngestMessage:
        """Parse a queue message; anything malformed raises ValueError (a poison message)."""
        data: Any = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("an ingestion message is a JSON object")
        tenant_id = data.get("tenant_id")
        if not isinstance(tenant_id, str) or not _TENANT_ID.fullmatch(tenant_id):
            raise ValueError("tenant_id must be a tenant id")
        return cls(tenant_id=tenant_id, document_id=uuid.UUID(str(data.get("document_id"))))


IngestStatus = Literal["queued", "pending"]


class SqsIngestPublisher:
    """Sends ingestion messages; never raises: a failure is "pending" (the caller decides)."""

    def __init__(self, client: Any, queue_url: str | None) -> None:
        self._client = client
        self._queue_url = queue_url

    def publish(self, message: IngestMessage) -> IngestStatus:
        if not self._queue_url:
            get_logger().warning("no ingestion queue configured")
            return "pending"
        try:
            self._client.send_message(QueueUrl=self._queue_url, MessageBody=message.to_json())
        except Exception as exc:
            get_logger().warning("ingestion message not sent", extra={"error": type(exc).__name__})
            return "pending"
        return "queued"
