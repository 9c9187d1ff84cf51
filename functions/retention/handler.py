"""retention Lambda function: EventBridge schedule -> purge expired conversations."""

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"status": "not_implemented"}
