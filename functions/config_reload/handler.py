"""config_reload Lambda function: SQS batch -> cache invalidation (lands with the admin issue)."""

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"batchItemFailures": [], "status": "not_implemented"}
