"""retention Lambda function: EventBridge schedule -> purge expired conversations.

Stops before the function's deadline; the next scheduled run continues the work. Logs carry
Powertools' Lambda context and the schedule event's id as correlation id.
"""

from typing import Any

from aws_lambda_powertools.logging.correlation_paths import EVENT_BRIDGE

from agenthub.composition import get_retention_service
from agenthub.observability import logged_handler


@logged_handler(correlation_id_path=EVENT_BRIDGE)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = get_retention_service().run(remaining_ms=context.get_remaining_time_in_millis)
    counts: dict[str, Any] = report.as_dict()
    return counts
