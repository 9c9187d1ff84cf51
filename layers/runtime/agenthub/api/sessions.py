"""The sessions function's app: the caller's own conversations.

    GET    /api/{tenant_id}/session                 the caller's sessions, newest activity first
    GET    /api/{tenant_id}/session/{session_id}    one session and its messages, in order
    DELETE /api/{tenant_id}/session/{session_id}    the session, its messages and its memory

Another user's or another tenant's session answers 404, exactly like one that never existed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from agenthub.api.app import create_app
from agenthub.auth.deps import TenantPrincipal
from agenthub.db.models import TENANT_ID_PATTERN, ChatSession, Message, MessageRole
from agenthub.repositories.sessions import MAX_PAGE_SIZE as MAX_SESSIONS_PAGE

TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN, examples=["acme"])]
SessionId = Annotated[
    uuid.UUID,
    Path(description="the session id (a UUID)", examples=["3f2b8c1e-8d4a-4e4b-9a57-0c1d2e3f4a5b"]),
]
MAX_MESSAGES_PAGE = 200

_SESSION_EXAMPLE: dict[str, Any] = {
    "id": "3f2b8c1e-8d4a-4e4b-9a57-0c1d2e3f4a5b",
    "title": "Debt for MST 0123456789",
    "message_count": 4,
    "created_at": "2025-05-02T09:14:03.120000Z",
    "last_activity_at": "2025-05-02T09:16:41.884000Z",
}
_USER_MESSAGE_EXAMPLE: dict[str, Any] = {
    "id": "0b7e64c2-51d9-4b6f-8a3e-2f8c9d1e0a11",
    "seq": 1,
    "role": "user",
    "content": "Debt for MST 0123456789",
    "agent": None,
    "format": None,
    "renderer_hint": None,
    "data": None,
    "tool_calls": None,
    "usage": None,
    "latency_ms": None,
    "created_at": "2025-05-02T09:14:03.120000Z",
}
_ASSISTANT_MESSAGE_EXAMPLE: dict[str, Any] = {
    "id": "9a1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
    "seq": 2,
    "role": "assistant",
    "content": "Customer 0123456789 owes 269,750,000 VND.",
    "agent": "debt",
    "format": "card",
    "renderer_hint": "card",
    "data": {"title": "Debt", "fields": [{"label": "Total debt", "value": 269750000}]},
    "tool_calls": [
        {"tool": "get_customer_debt_by_mst", "args": {"mst": "0123456789"}, "outcome": "ok"}
    ],
    "usage": {"input_tokens": 412, "output_tokens": 96, "cost_usd": 0.000119},
    "latency_ms": 1840,
    "created_at": "2025-05-02T09:14:05.002000Z",
}


def _error_example(code: str, message: str) -> dict[str, Any]:
    body = {"error": {"code": code, "message": message, "request_id": "c0ffee00-1234"}}
    return {"description": message, "content": {"application/json": {"example": body}}}


_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error_example("unauthenticated", "missing or invalid token"),
    403: _error_example("forbidden", "token does not belong to this tenant"),
    422: _error_example("validation_error", "invalid input: session_id"),
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: _error_example("not_found", "session not found"),
}


class SessionPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SESSION_EXAMPLE]})

    id: uuid.UUID
    title: str = Field(description="from the first user message")
    message_count: int
    created_at: datetime
    last_activity_at: datetime


class SessionList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"sessions": [_SESSION_EXAMPLE], "next_cursor": None}]}
    )

    sessions: list[SessionPublic]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page"
    )


class MessageUsage(BaseModel):
    input_tokens: int
    output_tokens: int
    cost_usd: float


class MessagePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ASSISTANT_MESSAGE_EXAMPLE]})

    id: uuid.UUID
    seq: int = Field(description="position in the session, from 1")
    role: MessageRole
    content: str
    agent: str | None
    format: str | None
    renderer_hint: str | None
    data: Any = None
    tool_calls: list[dict[str, Any]] | None = Field(description="assistant messages only")
    citations: list[dict[str, Any]] | None = Field(
        default=None, description="knowledge citations of an answer"
    )
    usage: MessageUsage | None = Field(description="assistant messages only")
    latency_ms: int | None
    created_at: datetime


class SessionTranscriptPublic(SessionPublic):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_SESSION_EXAMPLE,
                    "messages": [_USER_MESSAGE_EXAMPLE, _ASSISTANT_MESSAGE_EXAMPLE],
                    "next_after": 2,
                }
            ]
        }
    )

    messages: list[MessagePublic]
    next_after: int | None = Field(
        description="pass as `after` for the next page of messages; null on the last page"
    )


def _session(chat_session: ChatSession) -> dict[str, Any]:
    return {
        "id": chat_session.id,
        "title": chat_session.title,
        "message_count": chat_session.message_count,
        "created_at": chat_session.created_at,
        "last_activity_at": chat_session.last_activity_at,
    }


def _message(message: Message) -> MessagePublic:
    is_answer = message.role is MessageRole.ASSISTANT
    return MessagePublic(
        id=message.id,
        seq=message.seq,
        role=message.role,
        content=message.content,
        agent=message.agent,
        format=message.format,
        renderer_hint=message.renderer_hint,
        data=message.data,
        tool_calls=list(message.tool_calls) if is_answer else None,
        citations=list(message.citations) if is_answer and message.citations else None,
        usage=MessageUsage(
            input_tokens=message.input_tokens,
            output_tokens=message.output_tokens,
            cost_usd=float(message.cost_usd),
        )
        if is_answer
        else None,
        latency_ms=message.latency_ms,
        created_at=message.created_at,
    )


MAX_SEQ = 2**31 - 1


def create_sessions_app() -> FastAPI:
    app = create_app(
        title="AgentHub sessions",
        description="The caller's own conversations: list them, read one back, delete one.",
    )

    @app.get(
        "/api/{tenant_id}/session",
        response_model=SessionList,
        summary="List my sessions",
        description="The caller's sessions, most recent activity first, a page at a time.",
        responses={**_AUTH_ERRORS, 400: _error_example("bad_request", "invalid cursor")},
    )
    def list_sessions(
        tenant_id: TenantId,
        principal: TenantPrincipal,
        limit: Annotated[int, Query(ge=1, le=MAX_SESSIONS_PAGE)] = 20,
        cursor: Annotated[
            str | None,
            Query(max_length=512, description="`next_cursor` of the previous page"),
        ] = None,
    ) -> SessionList:
        from agenthub.composition import get_session_service

        page = get_session_service().list_sessions(
            tenant_id=tenant_id, user_id=principal.user_id, limit=limit, cursor=cursor
        )
        return SessionList(
            sessions=[SessionPublic(**_session(s)) for s in page.sessions],
            next_cursor=page.next_cursor,
        )

    @app.get(
        "/api/{tenant_id}/session/{session_id}",
        response_model=SessionTranscriptPublic,
        summary="Read one of my sessions",
        description="The session and its messages in conversation order, a page at a time.",
        responses={**_AUTH_ERRORS, **_NOT_FOUND},
    )
    def get_session(
        tenant_id: TenantId,
        session_id: SessionId,
        principal: TenantPrincipal,
        limit: Annotated[int, Query(ge=1, le=MAX_MESSAGES_PAGE)] = 100,
        after: Annotated[
            int | None,
            # le: seq is a PostgreSQL INTEGER; a bigger cursor is bad input, not a crash.
            Query(
                ge=0, le=MAX_SEQ, description="`next_after` of the previous page (a message seq)"
            ),
        ] = None,
    ) -> SessionTranscriptPublic:
        from agenthub.composition import get_session_service

        transcript = get_session_service().get_transcript(
            tenant_id=tenant_id,
            user_id=principal.user_id,
            session_id=session_id,
            limit=limit,
            after=after,
        )
        return SessionTranscriptPublic(
            **_session(transcript.session),
            messages=[_message(m) for m in transcript.messages],
            next_after=transcript.next_after,
        )

    @app.delete(
        "/api/{tenant_id}/session/{session_id}",
        status_code=204,
        response_class=Response,
        summary="Delete one of my sessions",
        description="Deletes the session, its messages and its conversation memory.",
        responses={204: {"description": "deleted"}, **_AUTH_ERRORS, **_NOT_FOUND},
    )
    def delete_session(
        tenant_id: TenantId, session_id: SessionId, principal: TenantPrincipal
    ) -> Response:
        from agenthub.composition import get_session_service

        get_session_service().delete_session(
            tenant_id=tenant_id, user_id=principal.user_id, session_id=session_id
        )
        return Response(status_code=204)

    return app
