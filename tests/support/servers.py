"""Real HTTP servers on loopback for tests: the fake LLM provider and the demo business API.

Use the fixtures from a test module or a conftest:

    from tests.support.servers import business_api_server, fake_openai  # noqa: F401
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Self

import httpx
import pytest
import uvicorn

from tests.conftest import TEST_AUDIENCE, TEST_ISSUER
from tests.support.fake_openai import FakeOpenAIServer


class UvicornThread:
    """An ASGI app served by uvicorn on a free 127.0.0.1 port, in a background thread."""

    def __init__(self, app: Any, *, name: str = "uvicorn") -> None:
        self._app = app
        self._name = name
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    def start(self, timeout_s: float = 10.0) -> Self:
        if self._server is not None:
            return self
        # We bind the socket ourselves so the port is known before uvicorn starts: no race.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app,
            log_config=None,  # leave the test run's logging configuration alone
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name=f"{self._name}:{self._port}",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError(f"{self._name} did not start on port {self._port}")
            time.sleep(0.01)
        return self  # uvicorn owns the socket now and closes it at shutdown

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise RuntimeError(f"{self._name} did not stop within {timeout_s} s")
        self._server = None
        self._thread = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"


class BusinessApiServer(UvicornThread):
    """The demo business API over real HTTP, with its record of received calls."""

    def calls(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.base_url}/_calls", timeout=5)
        response.raise_for_status()
        calls: list[dict[str, Any]] = response.json()
        return calls

    def clear_calls(self) -> None:
        httpx.delete(f"{self.base_url}/_calls", timeout=5).raise_for_status()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A fresh fake OpenAI provider; script it with `enqueue(...)` or `responder`."""
    with FakeOpenAIServer() as server:
        yield server


_BUSINESS_API = pytest.StashKey[BusinessApiServer]()


@pytest.fixture
def business_api_server(
    request: pytest.FixtureRequest, rsa_public_pem: str
) -> Iterator[BusinessApiServer]:
    """The demo business API trusting the test key pair (TEST_ISSUER, TEST_AUDIENCE).

    One server per test run, stopped when the run ends: its only state is the call log, which
    is cleared for each test. (Starting uvicorn per test would cost ~0.3 s a test.)
    """
    server = request.config.stash.get(_BUSINESS_API, None)
    if server is None:
        from agenthub.demo import create_business_api

        app = create_business_api(
            public_key_pem=rsa_public_pem, issuer=TEST_ISSUER, audience=TEST_AUDIENCE
        )
        server = BusinessApiServer(app, name="business-api").start()
        request.config.stash[_BUSINESS_API] = server
        request.config.add_cleanup(server.stop)
    server.clear_calls()
    yield server
