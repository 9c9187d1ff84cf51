"""A local API Gateway (REST, proxy integration) for template.yaml's `Api` routes.

Each request becomes the event API Gateway would send (resource, path parameters, query string,
headers, body, request context) and goes to the real function handler; the handler's proxy
result (statusCode, headers, multiValueHeaders, body, isBase64Encoded) becomes the response.
Handlers are synchronous, so they run on worker threads, never on the server's event loop.
A function behind the Lambda Web Adapter (the streaming chat) is an ASGI app instead: the
gateway hands it the HTTP request, as the adapter does, and its response streams through.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from agenthub.local.lambda_runtime import FunctionRunner, InvocationPool
from agenthub.local.lambda_runtime import rest_proxy_event as build_rest_event
from agenthub.local.template_routes import RouteMatch, RouteNotFoundError, RouteTable

STAGE = "local"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway REST's request payload limit
# Set by the server from the real body; a handler's value could be wrong after decoding.
_SKIPPED_RESPONSE_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


class MalformedResponseError(ValueError):
    """A handler returned something that is not a Lambda proxy integration result."""


@dataclass(frozen=True)
class GatewayCall:
    """One request the gateway answered, for the console's access line."""

    method: str
    path: str
    status: int
    function: str | None
    duration_s: float


@dataclass(frozen=True)
class ProxyResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def rest_proxy_event(
    *,
    match: RouteMatch,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
    request_id: str,
    source_ip: str,
    stage: str = STAGE,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The API Gateway REST (v1) proxy integration event for one request (built in
    `lambda_runtime`, the one place that builds events, shared with the tests)."""
    return build_rest_event(
        resource=match.route.path,
        path_parameters=dict(match.path_parameters),
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        request_id=request_id,
        source_ip=source_ip,
        stage=stage,
        now=now,
    )


def proxy_response(result: Any) -> ProxyResponse:
    """Validate a handler's proxy result and turn it into status, headers and body bytes."""
    if not isinstance(result, Mapping):
        raise MalformedResponseError(f"the handler returned {type(result).__name__}, not a dict")
    status = result.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedResponseError(f"statusCode must be an HTTP status, got {status!r}")
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    single = result.get("headers") or {}
    if not isinstance(multi, Mapping) or not isinstance(single, Mapping):
        raise MalformedResponseError("headers and multiValueHeaders must be objects")
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponseError(f"multiValueHeaders[{name!r}] must be a list")
        headers.extend((str(name), str(value)) for value in values)
    seen = {name.lower() for name, _ in headers}
    headers.extend(
        (str(name), str(value)) for name, value in single.items() if name.lower() not in seen
    )
    headers = [(n, v) for n, v in headers if n.lower() not in _SKIPPED_RESPONSE_HEADERS]
    body = result.get("body")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raise MalformedResponseError(f"body must be a string, got {type(body).__name__}")
    elif result.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error:
            raise MalformedResponseError("isBase64Encoded is set but body is not base64") from None
    else:
        raw = body.encode("utf-8")
    return ProxyResponse(status=status, headers=headers, body=raw)


def error_body(status: int, code: str, message: str, request_id: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "request_id": request_id}},
        status_code=status,
    )


class PayloadTooLargeError(ValueError):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


class LocalApiGateway:
    """The ASGI app: resolve the route, invoke the function on a worker, map the result."""

    def __init__(
        self,
        routes: RouteTable,
        runners: Mapping[str, FunctionRunner],
        pool: InvocationPool,
        *,
        stage: str = STAGE,
        on_call: Callable[[GatewayCall], None] | None = None,
    ) -> None:
        self._routes = routes
        self._runners = runners
        self._pool = pool
        self._stage = stage
        self._on_call = on_call

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan is off; websockets are not an API Gateway REST
            return
        request = Request(scope, receive)
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        response, function = await self._respond(request, request_id)
        response.headers["x-amzn-RequestId"] = request_id
        await response(scope, receive, send)
        if self._on_call is not None:
            self._on_call(
                GatewayCall(
                    method=request.method,
                    path=request.url.path,
                    status=response.status_code,
                    function=function,
                    duration_s=time.monotonic() - started,
                )
            )

    async def _respond(self, request: Request, request_id: str) -> tuple[Response, str | None]:
        method, path = request.method, request.url.path
        try:
            match = self._routes.resolve(method, path)
        except RouteNotFoundError:
            # A known path with a wrong method too: deployed, API Gateway answers
            # MISSING_AUTHENTICATION_TOKEN, which template.yaml maps to this 404.
            return error_body(404, "not_found", f"no route for {method} {path}", request_id), None
        function = match.route.function.logical_id
        try:
            body = await _read_body(request, MAX_PAYLOAD_BYTES)
        except PayloadTooLargeError:
            message = f"request body over {MAX_PAYLOAD_BYTES} bytes"
            return error_body(413, "payload_too_large", message, request_id), function
        event = rest_proxy_event(
            match=match,
            method=method,
            path=path,
            query=request.query_params.multi_items(),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            body=body,
            request_id=request_id,
            source_ip=request.client.host if request.client else "127.0.0.1",
            stage=self._stage,
        )
        if match.route.function.web_adapter:
            return await self._web_app_call(function, event, body), function
        try:
            result = await asyncio.wrap_future(self._pool.submit(self._runners[function], event))
            proxied = proxy_response(result)
        except Exception as exc:
            # The detail goes to the developer's console, like CloudWatch would have it.
            print(f"{function} failed on {method} {path}:", file=sys.stderr)
            traceback.print_exception(exc, file=sys.stderr)
            message = f"the {function} function failed ({type(exc).__name__}); see the console"
            return error_body(502, "upstream_error", message, request_id), function
        proxied_response = Response(content=proxied.body, status_code=proxied.status)
        for name, value in proxied.headers:
            proxied_response.headers.append(name, value)
        return proxied_response, function

    async def _web_app_call(self, function: str, event: dict[str, Any], body: bytes) -> Response:
        """A web adapter function: its ASGI app answers, streaming (see WebAppResponse)."""
        runner = self._runners[function]
        try:
            app = await asyncio.to_thread(runner.handler)  # imported once, like a warm container
        except Exception as exc:
            print(f"{function} failed to load:", file=sys.stderr)
            traceback.print_exception(exc, file=sys.stderr)
            message = f"the {function} function failed ({type(exc).__name__}); see the console"
            return error_body(
                502, "upstream_error", message, str(event["requestContext"]["requestId"])
            )
        return WebAppResponse(app, body=body, request_context=event["requestContext"])


class WebAppResponse(Response):
    """What the Lambda Web Adapter does for a function: the request goes to the function's ASGI
    app over HTTP, with API Gateway's request context in `x-amzn-request-context`, and the app's
    response comes back as it is written (chunked, unbuffered: server-sent events stream)."""

    def __init__(self, app: Any, *, body: bytes, request_context: dict[str, Any]) -> None:
        super().__init__(status_code=200)
        self._app = app
        self._body = body
        self._context = json.dumps(request_context, separators=(",", ":")).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (name, value)
            for name, value in scope.get("headers", [])
            if name.lower() != b"x-amzn-request-context"
        ]
        headers.append((b"x-amzn-request-context", self._context))
        extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        extra = [(k, v) for k, v in extra if k.lower() not in (b"content-length", b"content-type")]
        body_sent = False
        started = False

        async def app_receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": self._body, "more_body": False}
            return await receive()  # then the client's disconnect, when it comes

        async def app_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                self.status_code = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self._app({**scope, "headers": headers}, app_receive, app_send)
        except Exception as exc:
            print("the web app failed:", file=sys.stderr)
            traceback.print_exception(exc, file=sys.stderr)
            if not started:
                request_id = json.loads(self._context).get("requestId", "")
                failed = error_body(502, "upstream_error", "the function failed", request_id)
                self.status_code = 502
                await failed(scope, receive, send)
