"""The chat function's app: `POST /api/{tenant_id}/chat`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agenthub.api.app import create_app
from agenthub.auth.deps import TenantPrincipal
from agenthub.db.models import TENANT_ID_PATTERN
from agenthub.services.chat import ChatAnswer, ChatTurn

TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN, examples=["acme"])]
MAX_MESSAGE_CHARS = 8000


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"message": "Debt for MST 0123456789"}]},
    )

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    session_id: uuid.UUID | None = None

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be blank")
        return value.strip()


class Usage(BaseModel):
    input_tokens: int
    output_tokens: int
    cost_usd: float


class Routing(BaseModel):
    agent: str
    reason: str
    intents: list[str] | None = None


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
        routing=Routing(**answer.routing),
        citations=[Citation(**c) for c in answer.citations],
    )


def create_chat_app() -> FastAPI:
    app = create_app(
        title="AgentHub chat",
        description="Send a message to the tenant's supervisor agent and get a structured answer.",
    )

    @app.post(
        "/api/{tenant_id}/chat",
        response_model=ChatResponse,
        summary="Send one chat message",
        responses={
            401: {"description": "missing or invalid token"},
            403: {"description": "token of another tenant"},
            404: {"description": "unknown session"},
            413: {"description": "request body too large"},
            422: {"description": "invalid input"},
            502: {"description": "the LLM provider failed"},
        },
    )
    def chat(
        tenant_id: TenantId, body: ChatRequest, principal: TenantPrincipal, request: Request
    ) -> ChatResponse:
        from agenthub.composition import get_chat_service
        from agenthub.services.metrics import record_turn

        answer = get_chat_service().handle(
            ChatTurn(
                tenant_id=tenant_id,
                user_id=principal.user_id,
                user_jwt=principal.token,
                message=body.message,
                session_id=body.session_id,
                request_id=str(request.state.request_id),
            )
        )
        record_turn(tenant_id=tenant_id, answer=answer)
        return _response(answer)

    return app
