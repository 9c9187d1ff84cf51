"""The JSON error body `{"error": {"code", "message", "request_id"}}`, for every failure of a
FastAPI app (the sessions and admin functions); the replies themselves come from `problems`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agenthub.api.problems import STATUS_CODES, Problem, for_domain_error, for_invalid_input
from agenthub.errors import AgentHubError

_STATUS_CODES = STATUS_CODES  # the name other modules used before `problems` existed


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    return JSONResponse(
        status_code=problem.status,
        content=problem.body(request_id_of(request)),
        headers=dict(problem.headers) or None,
    )


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return problem_response(request, Problem(status, code, message, details, headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AgentHubError)
    async def _domain_error(request: Request, exc: AgentHubError) -> JSONResponse:
        return problem_response(request, for_domain_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(request, for_invalid_input(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(request, exc.status_code, code, message)
