"""ingest Lambda function: SQS batch -> extract, chunk, embed, upsert into Chroma."""

from typing import Any

from agenthub.knowledge.consumer import handle_batch
from agenthub.observability import get_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    get_logger().info("ingest batch", extra={"records": len(event.get("Records") or [])})
    return handle_batch(event, context)
