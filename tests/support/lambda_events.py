"""API Gateway REST proxy events and a Lambda context, to invoke the real handlers in tests.

Both come from `agenthub.local.lambda_runtime`, which builds them for the local gateway too: the
tests send the events the local stack sends.
"""

from __future__ import annotations

import importlib.util
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from agenthub.local.lambda_runtime import LocalLambdaContext, rest_proxy_event

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LambdaContext(LocalLambdaContext):
    """The local gateway's Lambda context, named for tests."""

    function_name: str = "agenthub-test"


def load_handler(function: str) -> ModuleType:
    """Import functions/<function>/handler.py as its own module (the folders are not packages)."""
    path = REPO_ROOT / "functions" / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"agenthub_function_{function}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    token: str | None = None,
    resource: str = "/{proxy+}",
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy integration event, built as the local gateway builds it."""
    all_headers = {"Content-Type": "application/json", "Host": "api.agenthub.test"}
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    all_headers.update(headers or {})
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    return rest_proxy_event(
        resource=resource,
        path_parameters=path_parameters,
        method=method,
        path=path,
        query=list((query or {}).items()),
        headers=list(all_headers.items()),
        body=(text or "").encode(),
        request_id=str(uuid.uuid4()),
        source_ip="203.0.113.10",
        stage="test",
    )


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: Any


def invoke(module: ModuleType, event: dict[str, Any]) -> HttpResult:
    raw = module.handler(event, LambdaContext())
    text = raw.get("body") or ""
    try:
        body = json.loads(text) if text else None
    except json.JSONDecodeError:
        body = text
    return HttpResult(status=raw["statusCode"], headers=raw.get("headers") or {}, body=body)
