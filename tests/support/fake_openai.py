"""A fake LLM provider that speaks the OpenAI Chat Completions wire protocol over real HTTP.

Tests script it: queue replies (`enqueue`) or route by what the model was offered
(`responder`); every request is recorded with its headers so tests can assert which tools were
offered and which API key was used. Usable from bench scripts too:

    fake = FakeOpenAIServer().start()
    fake.enqueue(FakeReply.text("Xin chào"))
    ChatOpenAI(base_url=fake.base_url, api_key="sk-test", model="gpt-4o-mini").invoke("hi")
    fake.stop()

It is built on `http.server` so its threads are plain and its shutdown deterministic: every
response closes its connection, and a scripted delay ends early when the server stops.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
MODELS_PATHS = frozenset({"/v1/models", "/models"})
DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4o")


@dataclass(frozen=True)
class ToolCall:
    """A function call the fake model asks for; `arguments` is a dict or a raw JSON string."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_json(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments), ensure_ascii=False)


@dataclass(frozen=True)
class FakeReply:
    """One scripted answer: assistant text, tool calls, or an HTTP error; optionally late."""

    content: str | None = None
    calls: tuple[ToolCall, ...] = ()
    status: int = 200
    error_body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    @classmethod
    def text(
        cls,
        content: str,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
    ) -> FakeReply:
        return cls(
            content=content, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )

    @classmethod
    def tool_call(
        cls, name: str, arguments: Mapping[str, Any] | str | None = None, *, id: str | None = None
    ) -> FakeReply:
        return cls(calls=(ToolCall(name=name, arguments=arguments or {}, id=id),))

    @classmethod
    def tool_calls(cls, *calls: ToolCall, content: str | None = None) -> FakeReply:
        return cls(content=content, calls=calls)

    @classmethod
    def malformed_call(cls, name: str, raw_arguments: str = '{"mst": "0123') -> FakeReply:
        """A tool call whose arguments are not JSON (truncated), as models sometimes send."""
        return cls(calls=(ToolCall(name=name, arguments=raw_arguments),))

    @classmethod
    def empty(cls) -> FakeReply:
        """An answer with no content and no tool call."""
        return cls(content="")

    @classmethod
    def error(
        cls,
        status: int,
        message: str,
        *,
        error_type: str = "server_error",
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FakeReply:
        body = {"message": message, "type": error_type, "param": None, "code": code}
        return cls(status=status, error_body=body, headers=headers or {})

    @classmethod
    def server_error(cls) -> FakeReply:
        return cls.error(500, "The server had an error while processing your request.")

    @classmethod
    def invalid_api_key(cls) -> FakeReply:
        return cls.error(
            401,
            "Incorrect API key provided.",
            error_type="invalid_request_error",
            code="invalid_api_key",
        )

    @classmethod
    def rate_limited(cls, retry_after_s: int = 1) -> FakeReply:
        return cls.error(
            429,
            "Rate limit reached for requests.",
            error_type="requests",
            code="rate_limit_exceeded",
            headers={"retry-after": str(retry_after_s)},
        )

    @classmethod
    def delayed(cls, seconds: float, then: FakeReply | None = None) -> FakeReply:
        """`then` (default: a short text) sent only after `seconds`: trips client timeouts."""
        return replace(then or cls.text("(late answer)"), delay_s=seconds)

    def after(self, seconds: float) -> FakeReply:
        return replace(self, delay_s=seconds)

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.calls else "stop"


Responder = Callable[[dict[str, Any]], FakeReply]


def offered_tools(body: Mapping[str, Any]) -> list[str]:
    """The function names a request offers the model."""
    return [tool["function"]["name"] for tool in body.get("tools") or []]


@dataclass
class Misbehaving:
    """A responder that sends `bad` to the first `times` requests matching `when`, then lets
    `then` answer (every other request goes to `then` as well). `sent` counts the bad replies.

        fake.responder = Misbehaving(ScriptedModel(), FakeReply.empty(), times=1,
                                     when=lambda body: "transfer_to_debt" in offered_tools(body))
    """

    then: Responder
    bad: FakeReply | Callable[[dict[str, Any]], FakeReply]
    times: int = 1
    when: Callable[[dict[str, Any]], bool] = field(default=lambda body: True)
    sent: int = 0

    def __call__(self, body: dict[str, Any]) -> FakeReply:
        if self.sent < self.times and self.when(body):
            self.sent += 1
            return self.bad(body) if callable(self.bad) else self.bad
        return self.then(body)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # names in lower case
    body: Mapping[str, Any] | None

    @property
    def api_key(self) -> str | None:
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        return value if scheme.lower() == "bearer" and value else None

    @property
    def model(self) -> str | None:
        return (self.body or {}).get("model")

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))

    @property
    def tool_names(self) -> list[str]:
        """The function names the model was offered, in order."""
        tools = (self.body or {}).get("tools") or []
        return [tool["function"]["name"] for tool in tools if tool.get("type") == "function"]

    @property
    def stream(self) -> bool:
        return bool((self.body or {}).get("stream"))


class FakeOpenAIServer:
    """The OpenAI Chat Completions API on a free 127.0.0.1 port, answering from a script.

    Replies come from the queue first, then from `responder`; with neither, a request gets a
    500 that says so. With `api_key` set, any other key gets the provider's 401.
    """

    def __init__(
        self,
        *,
        responder: Responder | None = None,
        api_key: str | None = None,
        models: tuple[str, ...] = DEFAULT_MODELS,
    ) -> None:
        self.responder = responder
        self.api_key = api_key
        self.models = models
        self._queue: deque[FakeReply] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._serial = itertools.count(1)
        self._stopping = threading.Event()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HttpServer(("127.0.0.1", 0), _Handler, fake=self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-openai:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # wakes handlers sleeping on a scripted delay
        self._httpd.shutdown()
        self._httpd.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fake OpenAI server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as `base_url`."""
        return f"{self.url}/v1"

    # --- scripting and inspection -------------------------------------------------------------

    def enqueue(self, *replies: FakeReply) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not consumed yet."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path in CHAT_PATHS]

    @property
    def last_request(self) -> RecordedRequest:
        chats = self.chat_requests
        if not chats:
            raise AssertionError("the fake OpenAI server received no chat completion request")
        return chats[-1]

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    # --- used by the handler ------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> int:
        with self._lock:
            self._requests.append(request)
            return next(self._serial)

    def _next_reply(self, body: dict[str, Any]) -> FakeReply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            responder = self.responder
        if responder is None:
            return FakeReply.error(500, "fake_openai: no scripted reply left for this request")
        try:
            return responder(body)
        except Exception as exc:
            return FakeReply.error(500, f"fake_openai: responder failed: {exc!r}")

    def _sleep(self, seconds: float) -> bool:
        """Wait out a scripted delay; False when the server is stopping meanwhile."""
        return not self._stopping.wait(seconds)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many conversations at once (bench/load.py)
    block_on_close = True  # server_close() joins handler threads: none leaks past stop()

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        fake: FakeOpenAIServer,
    ) -> None:
        self.fake = fake
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout) is expected here; anything else is a bug.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer
    timeout = 10  # a silent client cannot hold a handler thread for long

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read `requests`, not stderr

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.fake._record(self._recorded(path, None))
        if path not in MODELS_PATHS:
            self._send_error(FakeReply.error(404, f"Unknown URL {path}", error_type="not_found"))
            return
        data = [
            {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "fake-openai"}
            for model in self.server.fake.models
        ]
        self._send_json(200, {"object": "list", "data": data})

    def do_POST(self) -> None:
        fake = self.server.fake
        path = urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        serial = fake._record(self._recorded(path, body if isinstance(body, dict) else None))
        if path not in CHAT_PATHS:
            self._send_error(FakeReply.error(404, f"Unknown URL {path}", error_type="not_found"))
            return
        if not isinstance(body, dict):
            self._send_error(
                FakeReply.error(400, "request body is not a JSON object", error_type="invalid")
            )
            return
        if fake.api_key is not None and self._api_key() != fake.api_key:
            self._send_error(FakeReply.invalid_api_key())
            return
        reply = fake._next_reply(body)
        if reply.delay_s and not fake._sleep(reply.delay_s):
            self.close_connection = True
            return
        if reply.status >= 400:
            self._send_error(reply)
        elif body.get("stream") and isinstance(reply, PacedReply):
            self._send_paced_stream(reply, _stream_chunks(reply, body, serial))
        elif body.get("stream"):
            self._send_stream(_stream_chunks(reply, body, serial))
        else:
            self._send_json(200, _completion(reply, body, serial), reply.headers)

    # --- helpers ------------------------------------------------------------------------------

    def _recorded(self, path: str, body: dict[str, Any] | None) -> RecordedRequest:
        headers = {name.lower(): value for name, value in self.headers.items()}
        return RecordedRequest(method=self.command, path=path, headers=headers, body=body)

    def _api_key(self) -> str | None:
        scheme, _, value = (self.headers.get("authorization") or "").partition(" ")
        return value if scheme.lower() == "bearer" else None

    def _send_error(self, reply: FakeReply) -> None:
        self._send_json(reply.status, {"error": dict(reply.error_body or {})}, reply.headers)

    def _send_json(
        self, status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        encoded = json.dumps(payload, ensure_ascii=False).encode()
        self.close_connection = True
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(encoded)))
            self.send_header("connection", "close")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(encoded)
        except ConnectionError:
            pass  # the client gave up

    def _send_paced_stream(self, reply: PacedReply, chunks: Iterator[Mapping[str, Any]]) -> None:
        """A `PacedReply`: content chunks at the reply's pace, and maybe a failure mid-way."""
        fake = self.server.fake
        self.close_connection = True
        try:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("transfer-encoding", "chunked")
            self.send_header("connection", "close")
            self.end_headers()
            for event in _paced_events(reply, chunks, fake._sleep):
                encoded = event.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(encoded), encoded))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except ConnectionError:
            pass

    def _send_stream(self, chunks: Iterator[Mapping[str, Any]]) -> None:
        """Server-sent events in HTTP/1.1 chunked encoding, one event per chunk."""
        self.close_connection = True
        try:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("transfer-encoding", "chunked")
            self.send_header("connection", "close")
            self.end_headers()
            events = (f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n" for chunk in chunks)
            for event in itertools.chain(events, ["data: [DONE]\n\n"]):
                encoded = event.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(encoded), encoded))
            self.wfile.write(b"0\r\n\r\n")
        except ConnectionError:
            pass


# --- wire format ------------------------------------------------------------------------------


def _usage(reply: FakeReply, body: Mapping[str, Any]) -> dict[str, int]:
    """Scripted counts, else a rough 4-characters-per-token estimate (deterministic)."""
    prompt = reply.prompt_tokens
    if prompt is None:
        prompt = max(1, len(json.dumps(body.get("messages", []), ensure_ascii=False)) // 4)
    completion = reply.completion_tokens
    if completion is None:
        produced = len(reply.content or "") + sum(len(c.arguments_json()) for c in reply.calls)
        completion = max(1, produced // 4)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _tool_call_id(call: ToolCall, serial: int, index: int) -> str:
    return call.id or f"call_fake{serial}_{index}"


def _completion(reply: FakeReply, body: Mapping[str, Any], serial: int) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.content,
        "refusal": None,
        "annotations": [],
    }
    if reply.calls:
        message["tool_calls"] = [
            {
                "id": _tool_call_id(call, serial, index),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_json()},
            }
            for index, call in enumerate(reply.calls)
        ]
    return {
        "id": f"chatcmpl-fake{serial}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or DEFAULT_MODELS[0],
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": _usage(reply, body),
    }


def _pieces(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)]


def _stream_chunks(
    reply: FakeReply, body: Mapping[str, Any], serial: int
) -> Iterator[dict[str, Any]]:
    """The chunks OpenAI streams: role first, then content or tool-call deltas, then finish."""
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base = {
        "id": f"chatcmpl-fake{serial}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model") or DEFAULT_MODELS[0],
        "system_fingerprint": "fp_fake",
    }

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**base, "choices": [choice], **({"usage": None} if include_usage else {})}

    first_content = "" if reply.content is not None or not reply.calls else None
    yield chunk({"role": "assistant", "content": first_content, "refusal": None})
    for word in re.findall(r"\s*\S+|\s+$", reply.content or ""):
        yield chunk({"content": word})
    for index, call in enumerate(reply.calls):
        opening = {
            "index": index,
            "id": _tool_call_id(call, serial, index),
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        yield chunk({"tool_calls": [opening]})
        for piece in _pieces(call.arguments_json(), size=8):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, reply.finish_reason)
    if include_usage:
        yield {**base, "choices": [], "usage": _usage(reply, body)}


# --- Paced and broken streams (streaming answers, issue 12) -----------------------------------


@dataclass(frozen=True)
class PacedReply(FakeReply):
    """A reply whose stream (`stream: true` requests) goes at a pace: the first content token
    after `first_token_s`, the next ones `token_interval_s` apart. With `fail_after` set, the
    stream breaks after that many content tokens with the error event OpenAI sends mid-stream
    (`data: {"error": {...}}`), which the openai client raises as an APIError.

        fake.enqueue(PacedReply.text(" ".join(["word"] * 21)).paced(0.3, 0.02))
    """

    first_token_s: float = 0.0
    token_interval_s: float = 0.0
    fail_after: int | None = None
    # time.perf_counter() when each content token was written (benchmarks read it)
    sent_at: list[float] = field(default_factory=list, compare=False)

    def paced(self, first_token_s: float, token_interval_s: float) -> PacedReply:
        return replace(self, first_token_s=first_token_s, token_interval_s=token_interval_s)

    def failing_after(self, tokens: int) -> PacedReply:
        return replace(self, fail_after=tokens)


MID_STREAM_ERROR = {
    "error": {
        "message": "The server had an error while processing your request.",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}


def _paced_events(
    reply: PacedReply, chunks: Iterator[Mapping[str, Any]], sleep: Callable[[float], bool]
) -> Iterator[str]:
    tokens = 0
    for chunk in chunks:
        choices = chunk.get("choices") or [{}]
        if choices[0].get("delta", {}).get("content"):
            if reply.fail_after is not None and tokens >= reply.fail_after:
                yield f"data: {json.dumps(MID_STREAM_ERROR)}\n\n"
                return
            if not sleep(reply.first_token_s if tokens == 0 else reply.token_interval_s):
                return
            tokens += 1
            reply.sent_at.append(time.perf_counter())
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
