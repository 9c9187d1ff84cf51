"""Lambda glue for the HTTP functions: one FastAPI app and Mangum adapter per warm container."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import FastAPI

from agenthub.api.app import MAX_BODY_BYTES

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def http_handler(
    app_factory: Callable[[], FastAPI], *, max_body_bytes: int = MAX_BODY_BYTES
) -> LambdaHandler:
    """A Lambda handler that builds the app on first use (not at import) and reuses it."""

    @cache
    def adapter() -> Any:
        from mangum import Mangum

        # lifespan="off": Mangum would run startup/shutdown on every invocation.
        return Mangum(app_factory(), lifespan="off", api_gateway_base_path="/")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        from agenthub.observability import get_logger

        request_id = (event.get("requestContext") or {}).get("requestId")
        logger = get_logger()
        logger.set_correlation_id(request_id)
        if context is not None:
            logger.append_keys(function_request_id=getattr(context, "aws_request_id", None))
        body = event.get("body") or ""
        # Checked on the event itself: a body without a Content-Length header is caught too.
        if len(body) > max_body_bytes * (4 / 3 if event.get("isBase64Encoded") else 1):
            return _too_large(str(request_id or ""), max_body_bytes)
        result: dict[str, Any] = adapter()(event, context)
        return result

    return handler


def _too_large(request_id: str, max_body_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    error = {
        "code": "payload_too_large",
        "message": f"request body over {max_body_bytes} bytes",
        "request_id": request_id,
    }
    return {
        "statusCode": 413,
        "headers": {"content-type": "application/json", "x-request-id": request_id},
        "multiValueHeaders": {},
        "body": json.dumps({"error": error}),
        "isBase64Encoded": False,
    }
