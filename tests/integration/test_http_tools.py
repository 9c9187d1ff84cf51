"""HTTP tools against a real HTTP server on 127.0.0.1, through the real SSRF-guarded client.

`base_env` allows 127.0.0.1/32 and localhost (AGENTHUB_TOOLS__SSRF_ALLOW), as the local demo
does; every other private, loopback or metadata address stays blocked.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from langchain_core.messages import ToolMessage
from pydantic import SecretStr

from agenthub.domain import TOOL_CONTEXT_KEY, ToolContext, ToolSpec
from agenthub.tools import TOOL_CALLS_KEY, build_tool
from tests.support.tool_deps import close_guarded_clients, tool_deps

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJl"
TENANT_SECRET = "erp-api-key-of-tenant-1"
DEBT = {
    "customer_name": "ACME Trading",
    "total_debt": 1250.5,
    "invoices": [{"no": "INV-1", "amount": 1250.5}],
    "internal_notes": "not for the agent",
}


class BusinessApi(BaseHTTPRequestHandler):
    """A small ERP: records what it received, answers per path."""

    received: list[dict[str, Any]]
    port: int

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    def answer(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.received.append(
            {
                "method": self.command,
                "path": url.path,
                "query": parse_qs(url.query),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": json.loads(body) if body else None,
            }
        )
        route = url.path.split("/")[1]
        if route == "customers":
            self.send_json(200, DEBT)
        elif route == "echo":
            self.send_json(200, self.received[-1])
        elif route in ("gzip-small", "gzip-bomb"):
            import gzip

            size = 100 if route == "gzip-small" else 50_000_000
            payload = json.dumps({"blob": "x" * size}).encode()
            content = gzip.compress(payload, compresslevel=9)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        elif route == "login":
            content = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Set-Cookie", "session=for-the-first-caller; Path=/")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        elif route == "big":
            self.send_json(200, {"blob": "x" * 5000})
        elif route == "big-undeclared":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"blob": "' + b"x" * 5000 + b'"}')
            self.close_connection = True
        elif route == "not-json":
            self.send_raw(200, b"<html>maintenance</html>", "text/html")
        elif route == "missing":
            self.send_json(404, {"detail": "customer 0123456789 not found"})
        elif route == "boom":
            self.send_raw(500, b"Internal Server Error", "text/plain")
        elif route == "slow":
            time.sleep(1.5)
            # The tool timed out and hung up long ago: nobody reads this (no traceback).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_json(200, {"late": True})
        elif route == "redirect":
            self.redirect(url.query)
        else:
            self.send_json(404, {"detail": "no route"})

    def redirect(self, target: str) -> None:
        locations = {
            "same-origin": "/echo/after-redirect",
            "metadata": "http://169.254.169.254/latest/meta-data/iam/",
            "private": "http://10.0.0.1/admin",
            "ipv6-loopback": "http://[::1]:80/",
            "other-origin": f"http://localhost:{self.port}/echo/other-origin",
            "file": "file:///etc/passwd",
            "loop": "/redirect?loop",
        }
        self.send_response(307 if target == "same-origin" else 302)
        self.send_header("Location", locations[target])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_json(self, status: int, payload: Any) -> None:
        self.send_raw(status, json.dumps(payload).encode(), "application/json")

    def send_raw(self, status: int, content: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class Server:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        handler = type("Handler", (BusinessApi,), {"received": self.received})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        handler.port = self.port
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server(base_env: None) -> Iterator[Server]:
    with Server() as running:
        yield running
    close_guarded_clients()  # no pooled connection outlives its server


SCHEMA = {
    "type": "object",
    "properties": {
        "mst": {"type": "string", "pattern": "^[0-9]{10}$"},
        "status": {"type": "string", "enum": ["open", "paid"]},
    },
    "required": ["mst"],
}


def http_tool(
    url: str,
    *,
    type: str = "HTTP_GET",
    schema: dict[str, Any] = SCHEMA,
    encrypted_secret: str | None = None,
    **config: Any,
) -> Any:
    spec = ToolSpec(
        id=uuid.uuid4(),
        name="erp_call",
        description="Calls the ERP",
        type=type,  # type: ignore[arg-type]
        input_schema=schema,
        config={"url": url, **config},
        encrypted_secret=encrypted_secret,
    )
    return build_tool(spec, tool_deps())  # the real, shared, SSRF-guarded client


def invoke(tool: Any, args: dict[str, Any], calls: list[dict[str, Any]] | None = None) -> Any:
    context = ToolContext(
        tenant_id="t-1", user_id="u-1", user_jwt=SecretStr(JWT), request_id="req-42"
    )
    configurable: dict[str, Any] = {TOOL_CONTEXT_KEY: context}
    if calls is not None:
        configurable[TOOL_CALLS_KEY] = calls
    message = tool.invoke(
        {"type": "tool_call", "id": "call-1", "name": tool.name, "args": args},
        config={"configurable": configurable},
    )
    assert isinstance(message, ToolMessage)
    return message


def error_of(message: ToolMessage) -> dict[str, Any]:
    assert message.status == "error", message.content
    return json.loads(message.content)["error"]


# --- success -----------------------------------------------------------------------------------


def test_the_users_jwt_is_forwarded_as_bearer_and_the_path_and_query_are_filled(
    server: Server,
) -> None:
    calls: list[dict[str, Any]] = []
    tool = http_tool(f"{server.base}/customers/{{mst}}/debt", auth_mode="user_jwt")
    message = invoke(tool, {"mst": "0123456789", "status": "open"}, calls)
    assert message.status == "success"
    assert json.loads(message.content) == DEBT
    [request] = server.received
    assert request["path"] == "/customers/0123456789/debt"
    assert request["query"] == {"status": ["open"]}
    assert request["headers"]["authorization"] == f"Bearer {JWT}"
    assert request["headers"]["x-request-id"] == "req-42"
    assert calls[0]["outcome"] == "ok"
    assert calls[0]["http_status"] == 200


def test_the_tenant_secret_is_decrypted_at_call_time_and_sent_as_bearer(
    server: Server, fernet_key: str
) -> None:
    token = Fernet(fernet_key.encode()).encrypt(TENANT_SECRET.encode()).decode()
    tool = http_tool(
        f"{server.base}/customers/{{mst}}/debt", auth_mode="tenant_secret", encrypted_secret=token
    )
    assert invoke(tool, {"mst": "0123456789"}).status == "success"
    assert server.received[0]["headers"]["authorization"] == f"Bearer {TENANT_SECRET}"


def test_the_tenant_secret_can_go_into_a_configured_header(server: Server, fernet_key: str) -> None:
    token = Fernet(fernet_key.encode()).encrypt(TENANT_SECRET.encode()).decode()
    tool = http_tool(
        f"{server.base}/customers/{{mst}}/debt",
        auth_mode="tenant_secret",
        secret_header="X-Api-Key",
        encrypted_secret=token,
    )
    invoke(tool, {"mst": "0123456789"})
    headers = server.received[0]["headers"]
    assert headers["x-api-key"] == TENANT_SECRET
    assert "authorization" not in headers


def test_a_secret_encrypted_with_another_key_is_a_configuration_error_result(
    server: Server,
) -> None:
    token = Fernet(Fernet.generate_key()).encrypt(TENANT_SECRET.encode()).decode()
    tool = http_tool(
        f"{server.base}/customers/{{mst}}/debt", auth_mode="tenant_secret", encrypted_secret=token
    )
    error = error_of(invoke(tool, {"mst": "0123456789"}))
    assert error["type"] == "configuration"
    assert server.received == []


def test_post_builds_the_json_body_from_the_arguments(server: Server) -> None:
    schema = {
        "type": "object",
        "properties": {
            "mst": {"type": "string"},
            "amount": {"type": "number", "exclusiveMinimum": 0},
            "note": {"type": "string"},
            "channel": {"type": "string"},
        },
        "required": ["mst", "amount"],
    }
    tool = http_tool(
        f"{server.base}/echo/customers/{{mst}}/payments",
        type="HTTP_POST",
        schema=schema,
        query={"via": "channel"},
    )
    message = invoke(tool, {"mst": "0123456789", "amount": 99.5, "channel": "chat"})
    [request] = server.received
    assert request["method"] == "POST"
    assert request["path"] == "/echo/customers/0123456789/payments"
    assert request["query"] == {"via": ["chat"]}
    assert request["body"] == {"amount": 99.5}
    assert json.loads(message.content)["body"] == {"amount": 99.5}


def test_response_fields_keep_only_the_configured_data(server: Server) -> None:
    tool = http_tool(
        f"{server.base}/customers/{{mst}}/debt",
        response_fields=["customer_name", "total_debt", "invoices"],
    )
    message = invoke(tool, {"mst": "0123456789"})
    assert message.content == (
        '{"customer_name":"ACME Trading","total_debt":1250.5,'
        '"invoices":[{"no":"INV-1","amount":1250.5}]}'
    )


def test_a_same_origin_redirect_is_followed_with_the_credentials(server: Server) -> None:
    tool = http_tool(
        f"{server.base}/redirect?same-origin",
        schema={"type": "object"},
        auth_mode="user_jwt",
        query=[],
    )
    message = invoke(tool, {})
    assert json.loads(message.content)["path"] == "/echo/after-redirect"
    assert server.received[-1]["headers"]["authorization"] == f"Bearer {JWT}"


def test_a_redirect_to_another_origin_drops_the_credentials(server: Server) -> None:
    tool = http_tool(
        f"{server.base}/redirect?other-origin",
        schema={"type": "object"},
        auth_mode="user_jwt",
        query=[],
    )
    message = invoke(tool, {})
    assert message.status == "success"
    assert server.received[0]["headers"]["authorization"] == f"Bearer {JWT}"
    assert server.received[1]["path"] == "/echo/other-origin"
    assert "authorization" not in server.received[1]["headers"]


# --- failures become tool results --------------------------------------------------------------


@pytest.mark.parametrize("target", ["metadata", "private", "ipv6-loopback", "file"])
def test_a_redirect_to_a_blocked_address_is_refused(server: Server, target: str) -> None:
    calls: list[dict[str, Any]] = []
    tool = http_tool(f"{server.base}/redirect?{target}", schema={"type": "object"}, query=[])
    error = error_of(invoke(tool, {}, calls))
    assert error["type"] == "ssrf_blocked"
    assert error["status"] is None
    assert len(server.received) == 1  # only the first hop reached a server
    assert calls[0]["outcome"] == "ssrf_blocked"


def test_endless_redirects_stop_after_three_hops(server: Server) -> None:
    tool = http_tool(f"{server.base}/redirect?loop", schema={"type": "object"}, query=[])
    error = error_of(invoke(tool, {}))
    assert (error["type"], error["status"]) == ("http_status", 302)
    assert len(server.received) == 4  # the first request and three redirects


def test_a_blocked_host_is_refused_at_call_time_too(server: Server) -> None:
    tool = http_tool("http://10.1.2.3/customers/{mst}/debt")
    error = error_of(invoke(tool, {"mst": "0123456789"}))
    assert error["type"] == "ssrf_blocked"


def test_a_404_carries_the_upstream_detail(server: Server) -> None:
    calls: list[dict[str, Any]] = []
    tool = http_tool(f"{server.base}/missing/{{mst}}")
    error = error_of(invoke(tool, {"mst": "0123456789"}, calls))
    assert error == {
        "type": "http_status",
        "status": 404,
        "message": "the service answered HTTP 404",
        "detail": "customer 0123456789 not found",
    }
    assert (calls[0]["outcome"], calls[0]["http_status"]) == ("http_status", 404)


def test_a_500_without_json_is_an_http_status_error_without_detail(server: Server) -> None:
    error = error_of(invoke(http_tool(f"{server.base}/boom/{{mst}}"), {"mst": "0123456789"}))
    assert (error["type"], error["status"], error["detail"]) == ("http_status", 500, None)


def test_a_response_that_is_not_json_is_an_invalid_json_error(server: Server) -> None:
    error = error_of(invoke(http_tool(f"{server.base}/not-json/{{mst}}"), {"mst": "0123456789"}))
    assert (error["type"], error["status"]) == ("invalid_json", 200)


@pytest.mark.parametrize("route", ["big", "big-undeclared"])
def test_a_response_over_the_limit_is_refused(server: Server, route: str) -> None:
    tool = http_tool(f"{server.base}/{route}/{{mst}}", max_response_bytes=2000)
    error = error_of(invoke(tool, {"mst": "0123456789"}))
    assert error["type"] == "oversize"
    assert "2000" in error["message"]


def test_a_slow_service_is_a_timeout_error(server: Server) -> None:
    calls: list[dict[str, Any]] = []
    tool = http_tool(f"{server.base}/slow/{{mst}}", timeout_s=0.3)
    started = time.monotonic()
    error = error_of(invoke(tool, {"mst": "0123456789"}, calls))
    assert error["type"] == "timeout"
    assert time.monotonic() - started < 1.2
    assert calls[0]["outcome"] == "timeout"


def test_a_closed_port_is_a_network_error(server: Server) -> None:
    closed = Server()  # bound, never served, then closed: nothing listens on its port
    closed.httpd.server_close()
    error = error_of(invoke(http_tool(f"{closed.base}/customers/{{mst}}"), {"mst": "0123456789"}))
    assert error["type"] == "network"


def test_bad_arguments_never_reach_the_service(server: Server) -> None:
    tool = http_tool(f"{server.base}/customers/{{mst}}/debt", auth_mode="user_jwt")
    error = error_of(invoke(tool, {"mst": "not-a-tax-code"}))
    assert error["type"] == "bad_arguments"
    assert server.received == []


def test_no_error_result_leaks_the_jwt(server: Server) -> None:
    tool = http_tool(f"{server.base}/missing/{{mst}}", auth_mode="user_jwt")
    message = invoke(tool, {"mst": "0123456789"})
    assert JWT not in message.content


def test_a_cookie_one_caller_got_never_goes_out_with_another_callers_request(
    server: Server,
) -> None:
    """The HTTP client is shared by every tenant and user of a warm container."""
    invoke(http_tool(f"{server.base}/login/{{mst}}"), {"mst": "0123456789"})

    invoke(http_tool(f"{server.base}/echo/{{mst}}"), {"mst": "0123456789"})

    assert "cookie" not in server.received[-1]["headers"]


def test_a_compressed_answer_is_read_within_the_size_limit(server: Server) -> None:
    message = invoke(http_tool(f"{server.base}/gzip-small/{{mst}}"), {"mst": "0123456789"})

    assert message.status == "success", message.content
    assert json.loads(message.content) == {"blob": "x" * 100}


def test_a_compression_bomb_is_refused_before_it_is_inflated(server: Server) -> None:
    """50 MB of JSON sent as ~50 KB of gzip: refused at the size limit, never held whole."""
    message = invoke(http_tool(f"{server.base}/gzip-bomb/{{mst}}"), {"mst": "0123456789"})

    assert error_of(message)["type"] == "oversize"
