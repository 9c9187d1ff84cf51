"""The chat function's HTTP layer: `POST /api/{tenant_id}/chat`, straight from the API Gateway
REST proxy event, without a web framework.

Why no FastAPI here: the chat function's cold start is most of what a user waits for after a
deploy or a scale-out, and FastAPI with Starlette costs as much to import as a seventh of
LangGraph itself (Powertools' REST resolver about the same; bench/cold_start.py). One route needs
neither: pydantic validates the body (the models below, also in `openapi_document()`), the
auth and error rules are the same functions the FastAPI apps use, and every error keeps the JSON
body, status and headers of the other functions.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agenthub.api.lambda_adapter import json_result, proxy_result, request_id_of
from agenthub.api.problems import (
    MAX_BODY_BYTES,
    Problem,
    for_domain_error,
    for_invalid_input,
    for_unexpected_error,
    too_large,
)
from agenthub.auth.jwt import TENANT_ID_PATTERN
from agenthub.auth.principal import Principal
from agenthub.domain import Attachment
from agenthub.errors import AgentHubError, AuthenticationError, PermissionDeniedError
from agenthub.observability import bind_log_keys, log_keys, request_log_context
from agenthub.services.chat import ChatAnswer, ChatTurn

MAX_MESSAGE_CHARS = 8000
CHAT_PATH = re.compile(r"/api/(?P<tenant_id>[^/]+)/chat/?")
# C0 controls except tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_ATTACHMENTS = 5  # agenthub.services.uploads.MAX_ATTACHMENTS


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"message": "Debt for MST 0123456789"}]},
    )

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    session_id: uuid.UUID | None = None
    # Upload ids (POST /api/{tenant_id}/uploads) of the caller's files sent with the message.
    attachments: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be blank")
        if _CONTROL.search(value):
            # Refused before any model or tool call (PostgreSQL text cannot even store NUL).
            raise ValueError("message must not contain control characters (such as NUL)")
        return value.strip()


class Usage(BaseModel):
    input_tokens: int
    output_tokens: int
    cost_usd: float


class Routing(BaseModel):
    agent: str
    reason: str
    intents: list[str] | None = None
    # "error": the request could not be completed (the text says so); "partial": some of
    # several intents could not.
    status: str = "ok"


class Citation(BaseModel):
    document_id: str
    title: str
    snippet: str
    score: float


class ChatResponse(BaseModel):
    session_id: uuid.UUID
    message_id: uuid.UUID
    agent: str
    format: str
    renderer_hint: str
    data: Any = None
    text: str
    usage: Usage
    latency_ms: int
    routing: Routing
    citations: list[Citation] = Field(
        default_factory=list, description="knowledge chunks the answer drew on (RAG tools)"
    )


def _response(answer: ChatAnswer) -> ChatResponse:
    return ChatResponse(
        session_id=answer.session_id,
        message_id=answer.message_id,
        agent=answer.agent,
        format=answer.format,
        renderer_hint=answer.renderer_hint,
        data=answer.data,
        text=answer.text,
        usage=Usage(
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
            cost_usd=float(answer.cost_usd),
        ),
        latency_ms=answer.latency_ms,
        routing=Routing(**answer.routing.as_dict()),
        citations=[Citation(**c) for c in answer.citations],
    )


def chat(
    *, tenant_id: str, body: ChatRequest, principal: Principal, request_id: str
) -> ChatResponse:
    """The route: one message to the tenant's supervisor, answered in the tenant's format."""
    from agenthub.composition import get_chat_service
    from agenthub.services.metrics import record_turn

    attachments: tuple[Attachment, ...] = ()
    if body.attachments:
        from agenthub.composition import get_upload_service

        attachments = get_upload_service().resolve(
            tenant_id=tenant_id,
            user_id=principal.user_id,
            upload_ids=body.attachments,
            session_id=body.session_id,
        )
    answer = get_chat_service().handle(
        ChatTurn(
            tenant_id=tenant_id,
            user_id=principal.user_id,
            user_jwt=principal.token,
            message=body.message,
            session_id=body.session_id,
            request_id=request_id,
            attachments=attachments,
        )
    )
    record_turn(tenant_id=tenant_id, answer=answer)
    return _response(answer)


def serve_chat_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The API Gateway REST proxy event of `POST /api/{tenant_id}/chat` -> the proxy result.

    Checks in FastAPI's order, so answers match the other functions: route and method, body
    size, then the token (401) and its tenant (403), then path and body (422).
    """
    headers = _headers(event)
    request_id = request_id_of(event) or headers.get("x-request-id") or uuid.uuid4().hex
    # Its own log scope (within the invocation's): keys bound while serving end with it.
    with request_log_context(**{**log_keys(), "request_id": request_id}):
        return _serve(event, headers, request_id)


def _serve(event: dict[str, Any], headers: dict[str, str], request_id: str) -> dict[str, Any]:
    try:
        tenant_id = _route_tenant(event)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return proxy_result(too_large(), request_id)
        principal = _tenant_principal(headers.get("authorization"), tenant_id)
        if not TENANT_ID_PATTERN.fullmatch(tenant_id):
            msg = f"String should match pattern '{TENANT_ID_PATTERN.pattern}'"
            return proxy_result(
                for_invalid_input([{"loc": ("path", "tenant_id"), "msg": msg}]), request_id
            )
        body = ChatRequest.model_validate_json(_body_text(event) or "null")
        response = chat(tenant_id=tenant_id, body=body, principal=principal, request_id=request_id)
        return json_result(200, response.model_dump(mode="json"), request_id)
    except ValidationError as exc:
        return proxy_result(for_invalid_input(exc.errors(include_url=False)), request_id)
    except _RouteProblem as problem:
        return proxy_result(problem.problem, request_id)
    except AgentHubError as exc:
        return proxy_result(for_domain_error(exc), request_id)
    except Exception as exc:
        return proxy_result(for_unexpected_error(exc), request_id)


class _RouteProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _route_tenant(event: dict[str, Any]) -> str:
    match = CHAT_PATH.fullmatch(str(event.get("path") or ""))
    tenant_id = (event.get("pathParameters") or {}).get("tenant_id")
    if match is None and tenant_id is None:
        raise _RouteProblem(Problem(404, "not_found", "Not Found"))
    if str(event.get("httpMethod") or "").upper() != "POST":
        raise _RouteProblem(Problem(405, "method_not_allowed", "Method Not Allowed"))
    return str(tenant_id if tenant_id is not None else match.group("tenant_id"))  # type: ignore[union-attr]


def _headers(event: dict[str, Any]) -> dict[str, str]:
    """Lower-cased header names; of a repeated header, the first value (as Starlette reads)."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if values:
            headers[str(name).lower()] = str(values[0])
    return headers


def _body_text(event: dict[str, Any]) -> str:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return str(body)
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _RouteProblem(
            for_invalid_input([{"loc": ("body",), "msg": "not UTF-8 JSON"}])
        ) from exc


def _tenant_principal(authorization: str | None, tenant_id: str) -> Principal:
    """The verified caller, who must belong to the path's tenant (as `auth.deps` rules)."""
    from agenthub.composition import get_jwt_verifier

    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if not authorization or not scheme or not token or scheme.lower() != "bearer":
        raise AuthenticationError(_why_no_bearer_token(authorization))
    principal = get_jwt_verifier().verify(token)
    bind_log_keys(tenant_id=principal.tenant_id, user_id=principal.user_id)
    if principal.tenant_id != tenant_id:
        raise PermissionDeniedError("token does not belong to this tenant")
    return principal


def _why_no_bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        return "missing Authorization header (expected 'Bearer <token>')"
    scheme, _, _ = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return "Authorization header must use the Bearer scheme"
    return "Authorization header has an empty bearer token"


def openapi_document() -> dict[str, Any]:
    """The chat route's OpenAPI 3.1 document, from the same pydantic models that validate it."""
    from pydantic.json_schema import models_json_schema

    _, schemas = models_json_schema(
        [(ChatRequest, "validation"), (ChatResponse, "serialization")],
        ref_template="#/components/schemas/{model}",
    )
    error = {"$ref": "#/components/schemas/Error"}
    responses: dict[str, Any] = {
        "200": {
            "description": "the structured answer",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ChatResponse"}}
            },
        }
    }
    for status, what in (
        ("401", "missing or invalid token"),
        ("403", "token of another tenant"),
        ("404", "unknown session"),
        ("409", "the session's previous message is still being answered"),
        ("413", "request body too large"),
        ("422", "invalid input"),
        ("429", "over the tenant's rate limit (Retry-After)"),
        ("502", "the LLM provider failed"),
        ("503", "a dependency or the tenant's LLM configuration is unusable (Retry-After)"),
    ):
        responses[status] = {
            "description": what,
            "content": {"application/json": {"schema": error}},
        }
    components = dict(schemas.get("$defs", {}))
    components["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "request_id"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "request_id": {"type": "string"},
                    "details": {},
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AgentHub chat",
            "version": "1.0.0",
            "description": (
                "Send a message to the tenant's supervisor agent and get a structured answer."
            ),
        },
        "paths": {
            "/api/{tenant_id}/chat": {
                "post": {
                    "summary": "Send one chat message",
                    "operationId": "chat",
                    "parameters": [
                        {
                            "name": "tenant_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": TENANT_ID_PATTERN.pattern},
                            "example": "acme",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ChatRequest"}
                            }
                        },
                    },
                    "responses": responses,
                    "security": [{"bearer": []}],
                }
            }
        },
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def warm_up(tenant_id: str) -> None:
    """Do now what the first chat of `tenant_id` would do before its turn: the clients
    (PostgreSQL, Redis, checkpointer, JWT verifier), the tenant's config, its compiled graph and
    its model client (the provider SDK's import). No model is called and nothing is stored; the
    config read counts as one request of the tenant's rate limit.

    `agenthub dev` calls it before saying "ready", so the first chat answers as fast as the
    second; SnapStart's before-snapshot hook or an init-time call could use it the same way.
    """
    from agenthub.composition import (
        get_chat_service,
        get_config_source,
        get_graph_cache,
        get_jwt_verifier,
    )

    get_jwt_verifier()
    get_chat_service()
    get_graph_cache().get(get_config_source().get(tenant_id))
