"""Common FastAPI app construction: request ids, log context, error handlers, body limit."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI, Request, Response

from agenthub.api.errors import error_response, install_error_handlers
from agenthub.observability import get_logger

MAX_BODY_BYTES = 64 * 1024


def _request_id(request: Request) -> str:
    """API Gateway's request id when Mangum passes the event through, else a header or new."""
    event = request.scope.get("aws.event") or {}
    context = event.get("requestContext") or {}
    return str(context.get("requestId") or request.headers.get("x-request-id") or uuid.uuid4().hex)


def unavailable_dependency(exc: BaseException) -> str | None:
    """'database' when `exc` says PostgreSQL could not be reached or answered too late."""
    import psycopg
    import sqlalchemy.exc
    from psycopg_pool import PoolTimeout

    if isinstance(
        exc,
        sqlalchemy.exc.OperationalError
        | sqlalchemy.exc.TimeoutError
        | psycopg.OperationalError
        | PoolTimeout,
    ):
        return "database"
    return None


def create_app(
    *,
    title: str,
    description: str,
    version: str = "1.0.0",
    body_limits: Sequence[tuple[str, int]] = (),
) -> FastAPI:
    """`body_limits`: (path regex, bytes) for the few routes that take more than MAX_BODY_BYTES."""
    app = FastAPI(title=title, description=description, version=version)
    limits = [(re.compile(pattern), limit) for pattern, limit in body_limits]
    install_error_handlers(app)

    @app.middleware("http")
    async def _context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.request_id = _request_id(request)
        length = request.headers.get("content-length")
        path = request.url.path
        limit = next((n for pattern, n in limits if pattern.fullmatch(path)), MAX_BODY_BYTES)
        if length and length.isdigit() and int(length) > limit:
            return error_response(
                request, 413, "payload_too_large", f"request body over {limit} bytes"
            )
        logger = get_logger()
        logger.append_keys(request_id=request.state.request_id)
        try:
            response = await call_next(request)
        except Exception as exc:
            # Never a stack trace to the client; the log keeps the detail.
            unavailable = unavailable_dependency(exc)
            if unavailable is not None:
                logger.exception(f"{unavailable} unavailable")
                response = error_response(
                    request,
                    503,
                    "service_unavailable",
                    f"the {unavailable} is unavailable; try again shortly",
                    headers={"Retry-After": "5"},
                )
            else:
                logger.exception("unhandled error")
                response = error_response(request, 500, "internal_error", "internal error")
        finally:
            logger.remove_keys(["request_id", "tenant_id", "user_id"])
        response.headers["x-request-id"] = request.state.request_id
        return response

    return app
