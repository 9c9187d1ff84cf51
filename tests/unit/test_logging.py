"""Logs are JSON, carry the service name, and never show tokens, keys or passwords."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator

import pytest

from agenthub.observability import REDACTED, RedactingFilter, get_logger, redact, redact_text

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVlLWhlcmU"


@contextlib.contextmanager
def written_lines() -> Iterator[list[str]]:
    """The JSON lines the process logger's handler writes inside the block (filled at its end)."""
    handler = get_logger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    lines: list[str] = []
    try:
        yield lines
    finally:
        handler.setStream(previous)
        lines += [line for line in stream.getvalue().splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    "text",
    [
        f"token {JWT}",
        "Authorization: Bearer abc.def-ghi_jkl",
        "key sk-proj-ABCDEFGHIJKLMNOP",
        "postgresql://agenthub:hunter2@db:5432/agenthub",
        "postgresql+psycopg://agenthub:hunter2@db/agenthub",
    ],
)
def test_secret_looking_text_is_redacted(text: str) -> None:
    cleaned = redact_text(text)

    assert REDACTED in cleaned
    for secret in (JWT, "abc.def-ghi_jkl", "sk-proj-ABCDEFGHIJKLMNOP", "hunter2"):
        assert secret not in cleaned


def test_fields_with_secret_names_are_blanked_recursively() -> None:
    value = {"api_key": "x", "nested": {"password": "y", "ok": "fine"}, "list": [{"token": "z"}]}

    assert redact(value) == {
        "api_key": REDACTED,
        "nested": {"password": REDACTED, "ok": "fine"},
        "list": [{"token": REDACTED}],
    }


def test_a_log_record_is_json_with_the_service_and_no_secret() -> None:
    with written_lines() as lines:
        get_logger().info(
            "calling tool with %s", f"Bearer {JWT}", extra={"api_key": "sk-live-123456789"}
        )

    record = json.loads(lines[-1])
    assert record["service"]
    assert record["level"] == "INFO"
    assert JWT not in lines[-1] and "sk-live-123456789" not in lines[-1]
    assert record["api_key"] == REDACTED


def test_the_filter_scrubs_records_of_library_loggers() -> None:
    record = logging.makeLogRecord(
        {"msg": "connect %s", "args": ("postgresql://u:pw@h/db",), "authorization": "Bearer x"}
    )

    RedactingFilter().filter(record)

    assert "pw" not in record.getMessage()
    assert record.__dict__["authorization"] == REDACTED


def test_exception_text_is_redacted_too() -> None:
    with written_lines() as lines:
        try:
            raise RuntimeError(f"upstream refused Bearer {JWT} at postgresql://app:hunter2@db/x")
        except RuntimeError:
            get_logger().exception("tool failed")

    line = lines[-1]
    record = json.loads(line)
    assert "RuntimeError" in record["exception"]
    assert JWT not in line and "hunter2" not in line


def test_lines_of_child_loggers_are_scrubbed_by_the_shared_handler() -> None:
    with written_lines() as lines:
        child = logging.getLogger(f"{get_logger().name}.tools")
        child.warning("upstream said %s", f"Bearer {JWT}", extra={"password": "hunter2"})

    line = lines[-1]
    assert JWT not in line and "hunter2" not in line
    assert json.loads(line)["password"] == REDACTED
