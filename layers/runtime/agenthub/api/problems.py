"""What every HTTP function answers when something goes wrong, without any web framework.

The body is always `{"error": {"code", "message", "request_id"[, "details"]}}`. FastAPI's
exception handlers (`api/errors.py`) and the chat function's REST layer (`api/rest.py`) both
build it from here, so the same failure gets the same status, code and headers everywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agenthub.errors import AgentHubError, http_error_for
from agenthub.observability import get_logger

MAX_BODY_BYTES = 64 * 1024

STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    501: "not_implemented",
    502: "upstream_error",
    503: "service_unavailable",
}


@dataclass(frozen=True)
class Problem:
    """One error reply: status, error code, message, optional details and headers."""

    status: int
    code: str
    message: str
    details: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def body(self, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        }
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def too_large(limit: int = MAX_BODY_BYTES) -> Problem:
    return Problem(413, "payload_too_large", f"request body over {limit} bytes")


def for_domain_error(exc: AgentHubError) -> Problem:
    """The status table of `agenthub.errors`, plus the headers a client needs."""
    mapped = http_error_for(exc)
    if mapped.status >= 500:
        get_logger().error(
            "request failed", extra={"error_code": mapped.code, "error": exc.message}
        )
    headers: dict[str, str] = {}
    if mapped.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    elif mapped.status == 429 and isinstance(exc.details, dict):
        headers["Retry-After"] = str(exc.details.get("retry_after_s", 60))
    return Problem(mapped.status, mapped.code, exc.message, exc.details, headers)


def for_invalid_input(errors: Iterable[Mapping[str, Any]]) -> Problem:
    """422 naming the fields, from pydantic's (or FastAPI's) error list."""
    fields = []
    for err in errors:
        location = [str(part) for part in err.get("loc", ()) if part not in ("body",)]
        fields.append({"field": ".".join(location), "message": err.get("msg", "invalid")})
    names = ", ".join(f["field"] for f in fields if f["field"]) or "request"
    return Problem(422, "validation_error", f"invalid input: {names}", fields)


def for_unexpected_error(exc: BaseException) -> Problem:
    """503 when a dependency is down, else 500; never a stack trace to the client."""
    logger = get_logger()
    unavailable = unavailable_dependency(exc)
    if unavailable is not None:
        logger.exception(f"{unavailable} unavailable")
        return Problem(
            503,
            "service_unavailable",
            f"the {unavailable} is unavailable; try again shortly",
            headers={"Retry-After": "5"},
        )
    logger.exception("unhandled error")
    return Problem(500, "internal_error", "internal error")


def unavailable_dependency(exc: BaseException) -> str | None:
    """'database' when `exc` says PostgreSQL could not be reached or answered too late."""
    import psycopg
    from psycopg_pool import PoolTimeout

    if isinstance(exc, psycopg.OperationalError | PoolTimeout):
        return "database"
    # A SQLAlchemy error can only come from a process that imported SQLAlchemy: don't import
    # it here (the chat function serves a turn without it, errors included).
    sqlalchemy_errors = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_errors is not None and isinstance(
        exc, sqlalchemy_errors.OperationalError | sqlalchemy_errors.TimeoutError
    ):
        return "database"
    return None
