"""Lambda glue for the HTTP functions: one FastAPI app and Mangum adapter per warm container."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import FastAPI, Request

from agenthub.api.app import create_app
from agenthub.api.errors import error_response

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def http_handler(app_factory: Callable[[], FastAPI]) -> LambdaHandler:
    """A Lambda handler that builds the app on first use (not at import) and reuses it."""

    @cache
    def adapter() -> Any:
        from mangum import Mangum

        # lifespan="off": Mangum would run startup/shutdown on every invocation.
        return Mangum(app_factory(), lifespan="off", api_gateway_base_path="/")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        from agenthub.observability import get_logger

        logger = get_logger()
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        if context is not None:
            logger.append_keys(function_request_id=getattr(context, "aws_request_id", None))
        result: dict[str, Any] = adapter()(event, context)
        return result

    return handler


def not_implemented_app(name: str) -> FastAPI:
    """Placeholder for a function whose issue has not landed: every route answers 501."""
    app = create_app(title=f"AgentHub {name}", description=f"{name} (not implemented yet)")

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def _not_implemented(request: Request, path: str) -> Any:
        return error_response(
            request,
            501,
            "not_implemented",
            f"the {name} function is not implemented yet",
        )

    return app
