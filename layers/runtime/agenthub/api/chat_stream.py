"""The streaming chat function's app: `POST /api/{tenant_id}/chat/stream`, server-sent events.

Same body, auth, validation, rate limit, 409 and "no half turn" rules as `/chat`: everything that
can fail before the turn's graph starts (401, 403, 404, 409, 413, 422, 429, 503) is a plain JSON
error with its status. Then `text/event-stream`, one event per step, each with an `id:`, an
`event:` type and one JSON object as `data:`:

    routing     {"agent", "reason"[, "intents": [{"agent", "reason"}, ...]]}
    tool_start  {"tool", "agent"}
    tool_end    {"tool", "agent", "status": "ok"|"error", "latency_ms"}
    token       {"agent", "text"}                 (a text delta; structured answers send none)
    answer      exactly the JSON body `/chat` returns for the turn
    error       {"error": {"code", "message", "request_id"}, "status"}   (nothing was stored)
    done        {"outcome": "answered"|"failed"}  always last

A client that disconnects stops the turn at its next step; the turn is discarded as a failed one.
On AWS this app runs under uvicorn behind the Lambda Web Adapter (functions/chat_stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import FastAPI, Path, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from agenthub.api.app import create_app
from agenthub.api.chat import ChatRequest
from agenthub.api.chat import _response as chat_response
from agenthub.api.problems import MAX_BODY_BYTES, unavailable_dependency
from agenthub.auth.deps import TenantPrincipal
from agenthub.auth.jwt import TENANT_ID_PATTERN
from agenthub.domain import Attachment
from agenthub.errors import AgentHubError, http_error_for
from agenthub.observability import get_logger
from agenthub.services.chat import ChatTurn
from agenthub.services.chat_stream import (
    TURN_EVENTS,
    Delivery,
    RoutingEvent,
    TurnAnswered,
    TurnEvent,
    TurnFailed,
    TurnStream,
)

STREAM_PATH = "/api/{tenant_id}/chat/stream"
TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN, examples=["acme"])]
# A comment line while nothing happens, well inside API Gateway's idle timeout for streams.
KEEPALIVE_S = 15.0
_LWA_CONTEXT_HEADER = b"x-amzn-request-context"


def create_chat_stream_app() -> FastAPI:
    app = create_app(
        title="AgentHub chat (streaming)",
        description="The chat turn of `POST /api/{tenant_id}/chat`, streamed as server-sent "
        "events: routing, tool_start, tool_end, token, answer or error, then done.",
    )

    @app.post(
        STREAM_PATH,
        summary="Send one chat message and stream the answer (server-sent events)",
        response_class=EventStreamResponse,
        responses={
            200: {"content": {"text/event-stream": {}}, "description": "the turn's events"},
            401: {"description": "missing or invalid token"},
            403: {"description": "token of another tenant"},
            404: {"description": "unknown session"},
            409: {"description": "the session's previous message is still being answered"},
            413: {"description": "request body too large"},
            422: {"description": "invalid input"},
            429: {"description": "the tenant's rate limit"},
            503: {"description": "the tenant's assistant or a dependency is unavailable"},
        },
    )
    async def chat_stream(
        tenant_id: TenantId, body: ChatRequest, principal: TenantPrincipal, request: Request
    ) -> Response:
        from agenthub.composition import get_chat_stream_service

        request_id = str(request.state.request_id)
        attachments: tuple[Attachment, ...] = ()
        if body.attachments:
            from agenthub.composition import get_upload_service

            # Checked before the stream starts: a foreign or bad upload is a plain 404/422.
            attachments = await anyio.to_thread.run_sync(
                partial(
                    get_upload_service().resolve,
                    tenant_id=tenant_id,
                    user_id=principal.user_id,
                    upload_ids=body.attachments,
                    session_id=body.session_id,
                )
            )
        turn = ChatTurn(
            tenant_id=tenant_id,
            user_id=principal.user_id,
            user_jwt=principal.token,
            message=body.message,
            session_id=body.session_id,
            request_id=request_id,
            attachments=attachments,
        )
        queue: asyncio.Queue[Delivery] = asyncio.Queue()
        service = await anyio.to_thread.run_sync(get_chat_stream_service)
        stream = service.start(turn, _deliver_to(queue))
        first = await queue.get()
        if isinstance(first, TurnFailed):
            raise first.error  # before anything was streamed: the plain JSON error and status
        return EventStreamResponse(
            _events(queue, tenant_id=tenant_id, request_id=request_id), stream=stream
        )

    app.add_middleware(StreamAppGuard)
    return app


def _deliver_to(queue: asyncio.Queue[Delivery]) -> Callable[[Delivery], None]:
    loop = asyncio.get_running_loop()

    def deliver(item: Delivery) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: so is the client
            loop.call_soon_threadsafe(queue.put_nowait, item)

    return deliver


async def _events(
    queue: asyncio.Queue[Delivery], *, tenant_id: str, request_id: str
) -> AsyncIterator[bytes]:
    ids = itertools.count(1)
    outcome = "failed"
    while True:
        try:
            item = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
        except TimeoutError:
            yield b": keep-alive\n\n"
            continue
        if isinstance(item, TurnAnswered):
            from agenthub.services.metrics import record_turn

            record_turn(tenant_id=tenant_id, answer=item.answer)
            answer = chat_response(item.answer).model_dump(mode="json")
            yield sse(next(ids), "answer", answer)
            outcome = "answered"
            break
        if isinstance(item, TurnFailed):
            yield sse(next(ids), "error", error_event(item.error, request_id))
            break
        if isinstance(item, TURN_EVENTS):
            yield sse(next(ids), item.kind, event_data(item))
    yield sse(next(ids), "done", {"outcome": outcome})


def event_data(event: TurnEvent) -> dict[str, Any]:
    data = asdict(event)
    if isinstance(event, RoutingEvent):
        data["intents"] = list(event.intents)
        if not event.intents:
            del data["intents"]
    return data


def error_event(error: BaseException, request_id: str) -> dict[str, Any]:
    """The JSON error body `/chat` would have answered, and its status."""
    if isinstance(error, AgentHubError):
        mapped = http_error_for(error)
        status, code, message = mapped.status, mapped.code, error.message
        if status >= 500:
            get_logger().error("streamed turn failed", extra={"error_code": code})
    elif unavailable_dependency(error) is not None:
        get_logger().exception("streamed turn failed: a dependency is unavailable")
        status, code = 503, "service_unavailable"
        message = f"the {unavailable_dependency(error)} is unavailable; try again shortly"
    else:
        get_logger().exception("streamed turn failed", exc_info=error)
        status, code, message = 500, "internal_error", "internal error"
    body = {"code": code, "message": message, "request_id": request_id}
    return {"error": body, "status": status}


def sse(event_id: int, kind: str, data: Any) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"id: {event_id}\nevent: {kind}\ndata: {payload}\n\n".encode()


class EventStreamResponse(Response):
    """Streams server-sent events as they come, and stops the turn when the client leaves."""

    media_type = "text/event-stream"

    def __init__(
        self,
        events: AsyncIterator[bytes] | None = None,
        *,
        stream: TurnStream | None = None,
        status_code: int = 200,
    ) -> None:
        super().__init__(content=None, status_code=status_code)
        self._events = events
        self._stream = stream
        # No caching, no proxy buffering: each event must leave as soon as it is written.
        self.headers["cache-control"] = "no-cache"
        self.headers["x-accel-buffering"] = "no"
        del self.headers["content-length"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if self._events is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        async with anyio.create_task_group() as group:

            async def watch_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                self._client_left()
                group.cancel_scope.cancel()

            group.start_soon(watch_disconnect)
            try:
                async for chunk in self._events:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except OSError:
                self._client_left()
            finally:
                group.cancel_scope.cancel()

    def _client_left(self) -> None:
        if self._stream is not None:
            self._stream.cancel()


class StreamAppGuard:
    """What Mangum and the chat handler do for the other functions, for an app served over HTTP
    (Lambda Web Adapter): the API Gateway request context (forwarded by the adapter as the
    `x-amzn-request-context` header) becomes `scope["aws.event"]`, so the request id is API
    Gateway's; and a body over the limit is a 413 even without a Content-Length."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_context = headers.get(_LWA_CONTEXT_HEADER)
        if raw_context and "aws.event" not in scope:
            with contextlib.suppress(ValueError):
                context = json.loads(raw_context)
                if isinstance(context, dict):
                    scope = {**scope, "aws.event": {"requestContext": context}}
        body, more, size = [], True, 0
        while more:
            message = await receive()
            if message["type"] != "http.request":
                body.append(message)
                break
            size += len(message.get("body", b""))
            more = bool(message.get("more_body"))
            if size > MAX_BODY_BYTES:
                await _too_large(scope, send)
                return
            body.append(message)
        await self.app(scope, _replay(body, receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _too_large(scope: Scope, send: Send) -> None:
    context = (scope.get("aws.event") or {}).get("requestContext") or {}
    request_id = str(context.get("requestId") or uuid.uuid4().hex)
    error = {
        "code": "payload_too_large",
        "message": f"request body over {MAX_BODY_BYTES} bytes",
        "request_id": request_id,
    }
    payload = json.dumps({"error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
