"""Lambda glue for the HTTP functions: the API Gateway REST proxy event in, the proxy result out.

`http_handler` serves a FastAPI app through Mangum (sessions, admin: one app and adapter per warm
container); the chat function serves its one route without a web framework (`api/chat.py`). Both
get Powertools' Lambda context keys and the API Gateway request id as correlation id in their
logs, and refuse an oversize body before anything parses it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from agenthub.api.problems import MAX_BODY_BYTES, Problem, too_large
from agenthub.observability import bind_log_keys, logged_handler

if TYPE_CHECKING:
    from fastapi import FastAPI

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
API_GATEWAY_REST_REQUEST_ID = "requestContext.requestId"  # correlation_paths.API_GATEWAY_REST


def rest_function(serve: LambdaHandler, *, max_body_bytes: int = MAX_BODY_BYTES) -> LambdaHandler:
    """`serve` as an API Gateway REST handler: logged (context keys, correlation id, request
    id), with the body limit checked on the event itself."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        request_id = request_id_of(event)
        bind_log_keys(request_id=request_id)
        if body_too_large(event, max_body_bytes):
            return proxy_result(too_large(max_body_bytes), request_id)
        return serve(event, context)

    return logged_handler(correlation_id_path=API_GATEWAY_REST_REQUEST_ID)(handler)


def http_handler(
    app_factory: Callable[[], FastAPI], *, max_body_bytes: int = MAX_BODY_BYTES
) -> LambdaHandler:
    """A Lambda handler that builds the app on first use (not at import) and reuses it."""

    @cache
    def adapter() -> Any:
        from mangum import Mangum

        # lifespan="off": Mangum would run startup/shutdown on every invocation.
        return Mangum(app_factory(), lifespan="off", api_gateway_base_path="/")

    def serve(event: dict[str, Any], context: Any) -> dict[str, Any]:
        result: dict[str, Any] = adapter()(event, context)
        return result

    return rest_function(serve, max_body_bytes=max_body_bytes)


def request_id_of(event: dict[str, Any]) -> str:
    return str((event.get("requestContext") or {}).get("requestId") or "")


def body_too_large(event: dict[str, Any], limit: int = MAX_BODY_BYTES) -> bool:
    """Checked on the event itself: a body without a Content-Length header is caught too."""
    body = event.get("body") or ""
    return len(body) > limit * (4 / 3 if event.get("isBase64Encoded") else 1)


def proxy_result(problem: Problem, request_id: str) -> dict[str, Any]:
    return json_result(problem.status, problem.body(request_id), request_id, dict(problem.headers))


def json_result(
    status: int, body: Any, request_id: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The REST proxy integration result, shaped as Mangum shapes it."""
    return {
        "statusCode": status,
        "headers": {
            "content-type": "application/json",
            "x-request-id": request_id,
            **{name.lower(): value for name, value in (headers or {}).items()},
        },
        "multiValueHeaders": {},
        "body": json.dumps(body, separators=(",", ":"), default=str),
        "isBase64Encoded": False,
    }
