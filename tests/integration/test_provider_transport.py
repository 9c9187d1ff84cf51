"""Provider SDKs talk to a tenant-chosen `base_url` through the SSRF-guarded transport.

GIVEN a tenant admin's `base_url` on an allowed host that answers every request with a redirect
to a forbidden address (127.0.0.2, [::1], 0.0.0.0), WHEN the chat model the composition root
builds for that tenant is called, THEN the call fails cleanly and no TCP connection ever reaches
the forbidden address (a listening socket there counts every accept).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from langchain_core.messages import HumanMessage

from agenthub import composition
from agenthub.domain import LlmSpec
from agenthub.errors import LlmProviderError
from agenthub.llm.errors import translate_provider_error
from agenthub.llm.providers import ModelOptions, build_chat_model


class Listener:
    """A TCP socket on a forbidden address that records every connection made to it."""

    def __init__(self, family: socket.AddressFamily, host: str) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            # Answer like a model server would: a following client would get a transcript in.
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def redirector(location: str) -> ThreadingHTTPServer:
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(307)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


FORBIDDEN = [
    (socket.AF_INET, "127.0.0.2", "127.0.0.2"),
    (socket.AF_INET6, "::1", "[::1]"),
    (socket.AF_INET, "0.0.0.0", "0.0.0.0"),  # connecting to 0.0.0.0 reaches this host
]


@pytest.fixture(params=FORBIDDEN, ids=["127.0.0.2", "ipv6-loopback", "0.0.0.0"])
def redirect_to_forbidden(
    request: pytest.FixtureRequest, base_env: None
) -> Iterator[tuple[str, Listener]]:
    family, bind, url_host = request.param
    listener = Listener(family, bind)
    server = redirector(f"http://{url_host}:{listener.port}/v1/chat/completions")
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", listener
    finally:
        server.shutdown()
        server.server_close()
        listener.close()


def tenant_spec(base_url: str) -> LlmSpec:
    return LlmSpec(provider="openai_compatible", model_name="tenant-model", base_url=base_url)


def test_the_forbidden_listener_does_count_a_connection(base_env: None) -> None:
    listener = Listener(socket.AF_INET, "127.0.0.2")
    try:
        socket.create_connection(("127.0.0.2", listener.port), timeout=2).close()
        for _ in range(50):
            if listener.accepted:
                break
            threading.Event().wait(0.02)
        assert listener.accepted == 1  # the check below can see a connection
    finally:
        listener.close()


def test_a_tenant_base_url_redirecting_to_a_forbidden_address_reaches_nothing(
    redirect_to_forbidden: tuple[str, Listener],
) -> None:
    base_url, listener = redirect_to_forbidden
    model = composition.build_model(tenant_spec(base_url))  # what a chat turn uses

    with pytest.raises(Exception) as sync_call:
        model.invoke([HumanMessage("my customer's private transcript")])
    with pytest.raises(Exception) as async_call:
        asyncio.run(model.ainvoke([HumanMessage("my customer's private transcript")]))

    assert listener.accepted == 0
    for caught in (sync_call, async_call):  # what the chat answers: a clean 502
        assert isinstance(translate_provider_error(caught.value), LlmProviderError)


def test_the_guarded_client_refuses_a_forbidden_base_url_at_connect_time(base_env: None) -> None:
    """The saved-time check can be bypassed by DNS; the connect-time check cannot."""
    listener = Listener(socket.AF_INET, "127.0.0.2")
    try:
        model = composition.build_model(tenant_spec(f"http://127.0.0.2:{listener.port}/v1"))
        with pytest.raises(Exception) as caught:
            model.invoke([HumanMessage("hello")])
        assert listener.accepted == 0
        translated = translate_provider_error(caught.value)
        assert translated is not None
        assert translated.message == "the LLM provider is unreachable"
    finally:
        listener.close()


def test_without_the_guarded_transport_the_sdk_would_follow_the_redirect(
    redirect_to_forbidden: tuple[str, Listener],
) -> None:
    """Why the guard is needed: the SDK's own client follows the redirect to the listener."""
    base_url, listener = redirect_to_forbidden
    model = build_chat_model(
        tenant_spec(base_url),
        decrypt=lambda token: pytest.fail("no key to decrypt"),
        options=ModelOptions(timeout_s=5, max_retries=0, http=None),
    )
    with pytest.raises(Exception):
        model.invoke([HumanMessage("hello")])
    assert listener.accepted >= 1
