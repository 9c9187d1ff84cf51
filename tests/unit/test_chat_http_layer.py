"""The chat function's HTTP layer without a web framework: what it refuses before any service
runs, its OpenAPI document, and that FastAPI stays off its import path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agenthub.api.chat import openapi_document, serve_chat_event
from tests.support.lambda_events import LambdaContext, rest_event

REPO_ROOT = Path(__file__).resolve().parents[2]


def _serve(event: dict[str, object]) -> dict[str, object]:
    return serve_chat_event(event, LambdaContext())


def test_another_route_or_method_gets_the_json_404_or_405() -> None:
    other = _serve(rest_event("POST", "/api/acme/elsewhere", body={}))
    wrong_method = _serve(rest_event("GET", "/api/acme/chat"))

    assert other["statusCode"] == 404
    assert wrong_method["statusCode"] == 405
    assert '"code":"method_not_allowed"' in str(wrong_method["body"])


def test_no_token_is_401_with_the_bearer_challenge_before_the_body_is_read() -> None:
    result = _serve(rest_event("POST", "/api/acme/chat", raw_body='{"message": '))

    assert result["statusCode"] == 401
    headers = result["headers"]
    assert isinstance(headers, dict)
    assert headers["www-authenticate"] == "Bearer"
    assert headers["x-request-id"]


def test_the_openapi_document_describes_the_route_with_the_validating_models() -> None:
    document = openapi_document()

    operation = document["paths"]["/api/{tenant_id}/chat"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ChatRequest"}
    schemas = document["components"]["schemas"]
    assert schemas["ChatRequest"]["properties"]["message"]["maxLength"] == 8000
    assert schemas["ChatRequest"]["additionalProperties"] is False
    assert {"200", "401", "403", "409", "413", "422", "429", "502", "503"} <= set(
        operation["responses"]
    )


def test_importing_the_chat_handler_loads_neither_fastapi_nor_starlette_nor_mangum() -> None:
    probe = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('h', 'functions/chat/handler.py')\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette', 'mangum'}))"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
