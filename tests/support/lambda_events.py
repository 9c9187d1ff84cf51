"""API Gateway REST proxy events and a Lambda context, to invoke the real handlers in tests."""

from __future__ import annotations

import importlib.util
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LambdaContext:
    function_name: str = "agenthub-test"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:agenthub-test"
    timeout_s: float = 30.0
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


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
    """An API Gateway REST (v1) proxy integration event."""
    all_headers = {"Content-Type": "application/json", "Host": "api.agenthub.test"}
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    all_headers.update(headers or {})
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/test{path}",
            "stage": "test",
            "requestId": request_id,
            "accountId": "000000000000",
            "apiId": "testapi",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "pytest"},
            "requestTimeEpoch": int(time.time() * 1000),
        },
        "body": text,
        "isBase64Encoded": False,
    }


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
