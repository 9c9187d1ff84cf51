"""Streaming chat over real HTTP: the local gateway serving template.yaml, and an SSE reader."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from agenthub.local.gateway import LocalApiGateway
from agenthub.local.http_server import ServerThread
from agenthub.local.lambda_runtime import FunctionRunner, InvocationPool
from agenthub.local.template_routes import (
    functions_from_template,
    load_template,
    routes_from_template,
)

REPO_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@contextmanager
def serve_repo_gateway() -> Iterator[str]:
    """The local gateway for the repository's template.yaml on a free loopback port."""
    template = load_template(REPO_TEMPLATE)
    functions = functions_from_template(template, REPO_TEMPLATE.parent)
    routes = routes_from_template(template, REPO_TEMPLATE.parent)
    runners = {name: FunctionRunner(spec) for name, spec in functions.items()}
    pool = InvocationPool(max_workers=4)
    server = ServerThread(
        LocalApiGateway(routes, runners, pool), host="127.0.0.1", port=0, name="test gateway"
    ).start()
    try:
        yield server.url
    finally:
        server.stop()
        pool.shutdown()


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    data: dict[str, Any]
    at: float  # time.perf_counter() when it arrived


@dataclass
class Stream:
    status: int
    headers: httpx.Headers
    events: list[Event] = field(default_factory=list)
    raw: str = ""
    body: Any = None  # the JSON body of a response that is not a stream

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.type == kind]

    def first(self, kind: str) -> Event:
        return self.of(kind)[0]

    def index(self, kind: str) -> int:
        return next(i for i, e in enumerate(self.events) if e.type == kind)

    @property
    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def text(self, agent: str | None = None) -> str:
        return "".join(
            e.data["text"] for e in self.of("token") if agent is None or e.data["agent"] == agent
        )


def read_events(lines: Iterator[str], stream: Stream, *, stop_after: str | None = None) -> None:
    """Parse server-sent events from `lines` into `stream` (until `stop_after` is seen)."""
    fields: dict[str, str] = {}
    for line in lines:
        stream.raw += line + "\n"
        if line.startswith(":"):
            continue
        if line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
            continue
        if not fields:
            continue
        event = Event(
            id=int(fields["id"]),
            type=fields["event"],
            data=json.loads(fields["data"]),
            at=time.perf_counter(),
        )
        stream.events.append(event)
        fields = {}
        if event.type == stop_after:
            return


def post_stream(
    url: str,
    tenant: str,
    token: str | None,
    body: dict[str, Any] | str,
    *,
    stop_after: str | None = None,
    timeout: float = 60,
) -> Stream:
    """POST /api/{tenant}/chat/stream and read its events (or its JSON error)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    content = body if isinstance(body, str) else json.dumps(body)
    headers["Content-Type"] = "application/json"
    with (
        httpx.Client(timeout=timeout) as client,
        client.stream(
            "POST", f"{url}/api/{tenant}/chat/stream", content=content, headers=headers
        ) as response,
    ):
        stream = Stream(status=response.status_code, headers=response.headers)
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            response.read()
            stream.body = response.json()
            return stream
        read_events(response.iter_lines(), stream, stop_after=stop_after)
    return stream


def wait_until(condition: Any, *, timeout_s: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
