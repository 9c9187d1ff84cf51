"""Running the real Lambda handlers in this process: module loading, the API Gateway event and
the Lambda context (built here only; the tests use these too), worker threads.

Each function's handler file is imported once, as its own module (the function folders are not
packages and every one of them has a `handler.py`), like one warm container per function.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from agenthub.local.template_routes import FunctionSpec, TemplateError

LOCAL_ACCOUNT_ID = "123456789012"  # what moto and LocalStack use
LOCAL_REGION = "us-east-1"

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str = "agenthub-local"
    memory_limit_in_mb: int = 1024
    timeout_s: float = 30.0
    region: str = LOCAL_REGION
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id[:8]}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


class FunctionRunner:
    """One function's handler, imported on first invocation and reused (a warm container)."""

    def __init__(self, spec: FunctionSpec, *, region: str = LOCAL_REGION) -> None:
        self.spec = spec
        self._region = region
        self._handler: Handler | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.spec.logical_id

    def handler(self) -> Handler:
        with self._lock:
            if self._handler is None:
                module = _import_file(self.spec)
                handler = getattr(module, self.spec.handler_name, None)
                if not callable(handler):
                    raise TemplateError(
                        f"{self.spec.module_file} has no callable {self.spec.handler_name!r} "
                        f"(Handler {self.spec.handler} of {self.spec.logical_id})"
                    )
                self._handler = handler
            return self._handler

    def context(self) -> LocalLambdaContext:
        return LocalLambdaContext(
            function_name=self.spec.logical_id,
            memory_limit_in_mb=self.spec.memory_mb,
            timeout_s=self.spec.timeout_s,
            region=self._region,
        )

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.handler()(event, self.context())


def rest_proxy_event(
    *,
    resource: str,
    path_parameters: Mapping[str, str] | None,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
    request_id: str,
    source_ip: str,
    stage: str = "local",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The API Gateway REST (v1) proxy integration event for one request: the one builder the
    local gateway and the tests share."""
    now = now or datetime.now(UTC)
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)
    text, is_base64 = _event_body(body)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters or {}) or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}",
            "accountId": LOCAL_ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "sourceIp": source_ip,
                "userAgent": single_headers.get("user-agent"),
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
            },
            "domainName": single_headers.get("host", "localhost"),
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


def _event_body(body: bytes) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _import_file(spec: FunctionSpec) -> ModuleType:
    path = spec.module_file
    if not path.is_file():
        raise TemplateError(f"{spec.logical_id}: handler file {path} does not exist")
    safe_id = re.sub(r"\W", "_", spec.logical_id)
    name = f"agenthub_local_function_{safe_id}_{path.stem}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:  # pragma: no cover - .py files load
        raise TemplateError(f"cannot import {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


@contextlib.contextmanager
def thread_event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """Give this thread its own event loop while it invokes handlers.

    Mangum (in the HTTP handlers) runs the app on the thread's current loop, as it would on the
    Lambda runtime's single thread; worker threads have none until we set one.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.set_event_loop(None)
        loop.close()


class InvocationPool:
    """Worker threads for handler invocations, each with its own event loop."""

    def __init__(self, max_workers: int = 8, name: str = "lambda") -> None:
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._loops_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix=name, initializer=self._init_worker
        )

    def _init_worker(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        with self._loops_lock:
            self._loops.append(loop)

    def submit(self, runner: FunctionRunner, event: dict[str, Any]) -> Future[Any]:
        return self._executor.submit(runner.invoke, event)

    def shutdown(self) -> None:
        """Wait for running invocations, then close the workers' loops."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._loops_lock:
            for loop in self._loops:
                loop.close()
            self._loops.clear()
