"""Request-scoped log keys: one request's keys never reach another's lines."""

from __future__ import annotations

import contextvars
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from agenthub import observability
from agenthub.observability import bind_log_keys, get_logger, log_keys, request_log_context


def test_keys_bound_in_a_request_scope_end_with_it() -> None:
    def serve() -> None:
        with request_log_context(request_id="r1"):
            bind_log_keys(tenant_id="acme", user_id=None)
            assert log_keys() == {"request_id": "r1", "tenant_id": "acme"}

        assert "request_id" not in log_keys()

    contextvars.Context().run(serve)  # a context no other test has bound keys in


def test_serving_a_chat_event_leaves_no_keys_behind() -> None:
    from agenthub.api.chat import serve_chat_event
    from tests.support.lambda_events import LambdaContext, rest_event

    def serve() -> None:
        serve_chat_event(rest_event("POST", "/api/acme/chat", body={}), LambdaContext())
        assert log_keys() == {}

    contextvars.Context().run(serve)


def test_threads_serving_requests_at_once_keep_their_own_keys() -> None:
    barrier = threading.Barrier(8)

    def serve(i: int) -> dict[str, object]:
        with request_log_context(request_id=f"r{i}"):
            barrier.wait(timeout=10)
            bind_log_keys(tenant_id=f"t{i}")
            barrier.wait(timeout=10)
            return log_keys()

    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(serve, range(8)))

    assert seen == [{"request_id": f"r{i}", "tenant_id": f"t{i}"} for i in range(8)]


def test_the_logger_is_built_once_when_the_first_requests_arrive_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a process whose logger was never built (a service name no test used yet)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "agenthub-first-requests")
    monkeypatch.setattr(observability, "_logger", None)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "filters", list(root.filters))
    barrier = threading.Barrier(8)

    def first_request(_: int) -> object:
        barrier.wait(timeout=10)
        logger = get_logger()
        with request_log_context(request_id="x"):
            logger.append_keys(probe=True)  # needs the handler's formatter in place
        return logger

    # WHEN eight threads ask for it at the same moment
    with ThreadPoolExecutor(max_workers=8) as pool:
        loggers = list(pool.map(first_request, range(8)))

    # THEN they all get the one logger, whose handler has its JSON formatter
    assert all(logger is loggers[0] for logger in loggers)
    assert get_logger().registered_formatter is not None
    get_logger().remove_keys(["probe"])
