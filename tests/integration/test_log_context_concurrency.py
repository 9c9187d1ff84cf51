"""Concurrent requests in one process (the local gateway's threads) each log with their own
request id, correlation id, tenant and user."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import pytest

from agenthub.observability import get_logger
from tests.support.lambda_events import LambdaContext, rest_event

pytest_plugins = ["tests.integration.chat_fixtures"]


class _LockedStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            return super().write(text)


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    handler = get_logger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    stream = _LockedStream()
    previous = handler.setStream(stream)
    try:
        yield lambda: [json.loads(x) for x in stream.getvalue().splitlines() if x.startswith("{")]
    finally:
        handler.setStream(previous)


def test_concurrent_chat_requests_log_with_their_own_ids_tenant_and_user(
    seeded: None,
    chat_handler: ModuleType,
    token_for: Callable[..., str],
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    # GIVEN 12 debt questions from different users of two tenants, each with its own ids
    calls = []
    for i in range(12):
        tenant, user = ("acme", "globex")[i % 2], f"user-{i}"
        event = rest_event(
            "POST",
            f"/api/{tenant}/chat",
            body={"message": "Debt for MST 0123456789"},
            token=token_for(tenant, user),
            resource="/api/{tenant_id}/chat",
            path_parameters={"tenant_id": tenant},
        )
        calls.append((event, LambdaContext(), tenant, user))

    def send(call: tuple[dict[str, Any], LambdaContext, str, str]) -> int:
        event, context, _, _ = call
        return int(chat_handler.handler(event, context)["statusCode"])

    # WHEN they are served at once on six threads of one process
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(send, calls))

    # THEN every line a request wrote names that request, its tenant and its user
    assert statuses == [200] * 12
    expected = {
        event["requestContext"]["requestId"]: (context.aws_request_id, tenant, user)
        for event, context, tenant, user in calls
    }
    tool_lines = [line for line in log_lines() if line.get("message") == "tool call"]
    assert len(tool_lines) == 12
    for line in tool_lines:
        function_request_id, tenant, user = expected[line["request_id"]]
        assert line["correlation_id"] == line["request_id"]
        assert line["function_request_id"] == function_request_id
        assert (line["tenant_id"], line["user_id"]) == (tenant, user)
    assert {line["request_id"] for line in tool_lines} == set(expected)
