"""The JSON error body `{"error": {"code", "message", "request_id"}}`, for every failure."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agenthub.errors import AgentHubError, http_error_for
from agenthub.observability import get_logger

_STATUS_CODES = {
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


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "error": {"code": code, "message": message, "request_id": request_id_of(request)}
    }
    if details is not None:
        body["error"]["details"] = details
    return JSONResponse(status_code=status, content=body, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        location = [str(part) for part in err.get("loc", ()) if part not in ("body",)]
        errors.append({"field": ".".join(location), "message": err.get("msg", "invalid")})
    return errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AgentHubError)
    async def _domain_error(request: Request, exc: AgentHubError) -> JSONResponse:
        mapped = http_error_for(exc)
        if mapped.status >= 500:
            get_logger().error(
                "request failed", extra={"error_code": mapped.code, "error": exc.message}
            )
        headers = None
        if mapped.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        elif mapped.status == 429 and isinstance(exc.details, dict):
            headers = {"Retry-After": str(exc.details.get("retry_after_s", 60))}
        return error_response(
            request, mapped.status, mapped.code, exc.message, details=exc.details, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _field_errors(exc)
        names = ", ".join(f["field"] for f in fields if f["field"]) or "request"
        return error_response(
            request, 422, "validation_error", f"invalid input: {names}", details=fields
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(request, exc.status_code, code, message)
