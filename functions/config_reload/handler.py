"""config_reload Lambda function: SQS batch -> bump config versions, invalidate the cache."""

from typing import Any

from agenthub.api.reload_consumer import handle_batch
from agenthub.observability import get_logger, logged_handler


@logged_handler()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    get_logger().info("reload batch", extra={"records": len(event.get("Records") or [])})
    return handle_batch(event, context)
