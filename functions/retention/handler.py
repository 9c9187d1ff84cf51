"""retention Lambda function: EventBridge schedule -> purge expired conversations.

Stops before the function's deadline; the next scheduled run continues the work.
"""

from typing import Any

from agenthub.composition import get_retention_service
from agenthub.observability import get_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger = get_logger()
    logger.set_correlation_id(event.get("id"))
    logger.append_keys(function_request_id=getattr(context, "aws_request_id", None))
    report = get_retention_service().run(remaining_ms=context.get_remaining_time_in_millis)
    counts: dict[str, Any] = report.as_dict()
    return counts
