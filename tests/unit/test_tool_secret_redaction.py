"""A tool never hands back its own credentials, whatever shape the upstream echoes them in.

GIVEN a `tenant_secret` (or `user_jwt`) HTTP tool whose upstream quotes the request headers
back (a 401 body, a debugging echo, a nested list, a key, a URL-encoded or JSON-escaped copy),
WHEN the tool is called, THEN the tool's result (what reaches the model, the answer, the
messages table and the checkpoint) holds neither the secret nor the user's JWT.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx2
import pytest
from langchain_core.messages import ToolMessage
from pydantic import SecretStr

from agenthub import composition
from agenthub.domain import TOOL_CONTEXT_KEY, ToolContext
from agenthub.tools import build_tool
from tests.support.tool_deps import tool_deps
from tests.unit.test_tool_registry import spec

SECRET = 'pk_live_"quoted"\\and/slashed+plus 42'
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LTEiLCJ0IjoieCJ9.c2lnbmF0dXJlLXVzZXI"


def echo(status: int, shape: str):  # type: ignore[no-untyped-def]
    def reply(request: httpx2.Request) -> httpx2.Response:
        headers = dict(request.headers)
        secret = request.headers.get("X-Partner-Key") or request.headers.get("Authorization", "")
        bodies: dict[str, Any] = {
            "detail": {"detail": {"message": "bad key", "request_headers": headers}},
            "nested": {"items": [{"seen": [secret, {"again": f"key={secret};"}]}]},
            "as_key": {secret: "was your key", "n": 1},
            "url_encoded": {"next": f"https://erp.example/x?key={quote(secret, safe='')}"},
            "text": None,
        }
        if shape == "text":
            return httpx2.Response(status, text=f"you sent {headers}")
        return httpx2.Response(status, json=bodies[shape])

    return reply


def call(tool: Any) -> ToolMessage:
    context = ToolContext(tenant_id="t-1", user_id="u-1", user_jwt=SecretStr(JWT))
    message = tool.invoke(
        {"type": "tool_call", "id": "call-1", "name": tool.name, "args": {"mst": "0123456789"}},
        config={"configurable": {TOOL_CONTEXT_KEY: context}},
    )
    assert isinstance(message, ToolMessage)
    return message


def leaks(content: str, secret: str) -> list[str]:
    forms = {
        "raw": secret,
        "json": json.dumps(secret)[1:-1],
        "json-ascii": json.dumps(secret, ensure_ascii=True)[1:-1],
        "url": quote(secret, safe=""),
    }
    return [name for name, form in forms.items() if form in content]


@pytest.mark.parametrize("status", [200, 401])
@pytest.mark.parametrize("shape", ["detail", "nested", "as_key", "url_encoded", "text"])
def test_a_tenant_secret_echoed_by_the_upstream_never_leaves_the_tool(
    base_env: None, status: int, shape: str
) -> None:
    encrypted = composition.get_keyring().encrypt(SECRET).decode("ascii")
    tool = build_tool(
        spec(auth_mode="tenant_secret", secret_header="X-Partner-Key", encrypted_secret=encrypted),
        tool_deps(lambda: httpx2.Client(transport=httpx2.MockTransport(echo(status, shape)))),
    )

    message = call(tool)

    assert isinstance(message.content, str)
    assert leaks(message.content, SECRET) == []


@pytest.mark.parametrize("status", [200, 401])
@pytest.mark.parametrize("shape", ["detail", "nested", "as_key", "text"])
def test_the_users_jwt_echoed_by_the_upstream_never_leaves_the_tool(
    base_env: None, status: int, shape: str
) -> None:
    tool = build_tool(
        spec(auth_mode="user_jwt"),
        tool_deps(lambda: httpx2.Client(transport=httpx2.MockTransport(echo(status, shape)))),
    )

    message = call(tool)

    assert isinstance(message.content, str)
    assert leaks(message.content, JWT) == []


def test_the_rest_of_the_answer_survives_redaction(base_env: None) -> None:
    tool = build_tool(
        spec(auth_mode="user_jwt"),
        tool_deps(lambda: httpx2.Client(transport=httpx2.MockTransport(echo(200, "as_key")))),
    )

    content = json.loads(call(tool).content)  # still JSON

    assert content == {"Bearer [REDACTED]": "was your key", "n": 1}
