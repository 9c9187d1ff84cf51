"""Property-based: no request the OpenAPI documents allows (or nearly allows) gets a 5xx.

Schemathesis reads each app's OpenAPI and generates requests, valid and invalid, for every
operation; they run in-process through ASGI against the real database and Redis, with a real
token (so the handlers, not just authentication, are exercised). The number of examples per
operation is bounded so the three apps take well under a minute together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]

EXAMPLES_PER_OPERATION = 6
PLATFORM = ("platform_admin",)


def server_errors(
    app: Any,
    openapi_path: str,
    headers: dict[str, str],
    *,
    path_parameters: dict[str, str] | None = None,
    examples: int = EXAMPLES_PER_OPERATION,
) -> list[str]:
    """Each generated request that got a 5xx, as "METHOD path -> status: body"."""
    schema = schemathesis.openapi.from_asgi(openapi_path, app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document lists no operation"
    failures: list[str] = []
    for operation in operations:
        strategies = [
            operation.as_strategy(
                generation_mode=mode,
                headers=headers,
                path_parameters={
                    name: value
                    for name, value in (path_parameters or {}).items()
                    if name in operation.path_parameters
                },
            )
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def call(case: Any) -> None:
            response = case.call()
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]}"
                )

        call()
    return failures


def _chat_function_over_asgi() -> Any:
    """The chat function (a bare REST-event handler, no web framework) behind a minimal ASGI
    app: each request becomes the API Gateway event the local gateway would send."""
    import json
    import uuid

    from agenthub.api.chat import openapi_document, serve_chat_event
    from agenthub.local.lambda_runtime import LocalLambdaContext, rest_proxy_event

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/openapi.json":
            status, headers, payload = 200, {}, json.dumps(openapi_document()).encode()
        else:
            tenant = scope["path"].split("/")[2] if scope["path"].count("/") >= 3 else ""
            from urllib.parse import parse_qsl

            event = rest_proxy_event(
                resource="/api/{tenant_id}/chat",
                path_parameters={"tenant_id": tenant},
                method=scope["method"],
                path=scope["path"],
                query=parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
                body=body,
                request_id=uuid.uuid4().hex,
                source_ip="127.0.0.1",
            )
            result = serve_chat_event(event, LocalLambdaContext(function_name="chat"))
            status, headers = result["statusCode"], result.get("headers") or {}
            payload = (result.get("body") or "").encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")]
                + [
                    (k.lower().encode(), str(v).encode())
                    for k, v in headers.items()
                    if k.lower() != "content-type"
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_admin_api_answers_no_generated_request_with_a_server_error(
    admin_seeded: None, token_for: Callable[..., str]
) -> None:
    from agenthub.api.admin import create_admin_app

    failures = server_errors(
        create_admin_app(),
        "/api/admin/openapi.json",
        bearer(token_for("acme", "root", roles=PLATFORM)),
    )
    assert failures == []


def test_the_sessions_api_answers_no_generated_request_with_a_server_error(
    seeded: None, token_for: Callable[..., str], chat: Callable[..., Any]
) -> None:
    from agenthub.api.sessions import create_sessions_app

    chat("What is the debt of MST 0123456789?")  # a conversation to read, page and delete
    failures = server_errors(
        create_sessions_app(),
        "/openapi.json",
        bearer(token_for("acme", "alice")),
        path_parameters={"tenant_id": "acme"},
    )
    assert failures == []


def test_the_chat_api_answers_no_generated_request_with_a_server_error(
    seeded: None, token_for: Callable[..., str]
) -> None:
    failures = server_errors(
        _chat_function_over_asgi(),
        "/openapi.json",
        bearer(token_for("acme", "alice")),
        path_parameters={"tenant_id": "acme"},
        examples=10,  # one operation: the chat turn
    )
    assert failures == []
