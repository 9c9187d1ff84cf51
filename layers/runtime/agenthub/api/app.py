"""Common FastAPI app construction: request ids, log context, error handlers, body limit.

The chat function does not use it (see `api/chat.py`); sessions and admin do.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI, Request, Response

from agenthub.api.errors import error_response, install_error_handlers, problem_response
from agenthub.api.problems import (  # noqa: F401 - unavailable_dependency: re-exported
    MAX_BODY_BYTES,
    for_unexpected_error,
    unavailable_dependency,
)
from agenthub.observability import log_keys, request_log_context


def _request_id(request: Request) -> str:
    """API Gateway's request id when Mangum passes the event through, else a header or new."""
    event = request.scope.get("aws.event") or {}
    context = event.get("requestContext") or {}
    return str(context.get("requestId") or request.headers.get("x-request-id") or uuid.uuid4().hex)


def _has_nul(request: Request) -> bool:
    return "\x00" in request.scope.get("path", "") or any(
        "\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()
    )


def create_app(
    *,
    title: str,
    description: str,
    version: str = "1.0.0",
    max_body_bytes: int = MAX_BODY_BYTES,
    body_limits: Sequence[tuple[str, int]] = (),
) -> FastAPI:
    """`body_limits`: (path regex, bytes) for the few routes that take more than the default."""
    from agenthub.auth.deps import VERIFIER_STATE
    from agenthub.composition import get_jwt_verifier

    app = FastAPI(title=title, description=description, version=version)
    setattr(app.state, VERIFIER_STATE, get_jwt_verifier)  # the routes' auth dependency
    limits = [(re.compile(pattern), limit) for pattern, limit in body_limits]
    install_error_handlers(app)

    @app.middleware("http")
    async def _context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.request_id = _request_id(request)
        length = request.headers.get("content-length")
        path = request.url.path
        limit = next((n for pattern, n in limits if pattern.fullmatch(path)), max_body_bytes)
        if length and length.isdigit() and int(length) > limit:
            return error_response(
                request, 413, "payload_too_large", f"request body over {limit} bytes"
            )
        if _has_nul(request):
            # PostgreSQL stores no NUL character: a lookup by such a name cannot match anything.
            return error_response(
                request, 422, "validation_error", "invalid input: a NUL character in the URL"
            )
        # This request's own log keys; the auth dependency adds tenant and user (bind_log_keys).
        with request_log_context(**{**log_keys(), "request_id": request.state.request_id}):
            try:
                response = await call_next(request)
            except Exception as exc:
                # Never a stack trace to the client; the log keeps the detail.
                response = problem_response(request, for_unexpected_error(exc))
        response.headers["x-request-id"] = request.state.request_id
        return response

    return app
