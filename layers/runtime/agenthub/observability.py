"""Structured JSON logging (Powertools Logger), metrics and tracing, shared by every function.

Every record is JSON, carries the service name, and request id / tenant id when known. Values
that look like secrets (JWTs, bearer tokens, API keys, passwords) are redacted before output.
"""

from __future__ import annotations

import logging
import os
import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics, Tracer

_SECRET_KEY_NAMES = re.compile(
    r"(authorization|api[_-]?key|token|secret|password|passwd|fernet|private[_-]?key|cookie)",
    re.IGNORECASE,
)
_SECRET_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),  # JWT
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),  # OpenAI-style keys
    re.compile(r"(?i)(postgres(?:ql)?(?:\+\w+)?://[^:/\s]+:)[^@\s]+(@)"),  # URL passwords
)
REDACTED = "[REDACTED]"


def redact_text(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(rf"\1{REDACTED}\2", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def redact(value: Any, key: str | None = None) -> Any:
    """Redact secrets in a log value, recursively; keys with secret-like names are blanked."""
    if key is not None and _SECRET_KEY_NAMES.search(key):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Scrubs the message, its args and extra keys of every record."""

    _STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        if record.args:
            if isinstance(record.args, dict):
                record.args = redact(record.args)
            else:
                record.args = tuple(redact(a) for a in record.args)
        for name, value in list(record.__dict__.items()):
            if name not in self._STANDARD:
                record.__dict__[name] = redact(value, name)
        return True


def service_name() -> str:
    return os.environ.get("POWERTOOLS_SERVICE_NAME", "agenthub")


@cache
def get_logger() -> Logger:
    """The process logger; the root logger shares its JSON formatter (no plain-text logs)."""
    from aws_lambda_powertools import Logger

    level = os.environ.get("AGENTHUB_LOG_LEVEL", os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))
    formatter = _redacting_formatter()
    logger = Logger(service=service_name(), level=level, logger_formatter=formatter)
    # Our records are written by the Powertools handler; passing them on to the root handler
    # too would print every line twice (stdout and stderr, two CloudWatch lines).
    logging.getLogger(service_name()).propagate = False
    redacting = RedactingFilter()
    logger.addFilter(redacting)
    for handler in logger.handlers:
        handler.addFilter(redacting)
    # Library loggers (uvicorn, alembic, httpx, langchain) go through the same JSON formatter.
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redacting)
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        handler.addFilter(redacting)
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    return logger


def _redacting_formatter() -> Any:
    """Powertools' JSON formatter, with exception text redacted too (driver errors, for one,
    quote what they were sending)."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    class RedactingFormatter(LambdaPowertoolsFormatter):
        def formatException(self, ei: Any) -> str:
            return redact_text(super().formatException(ei))

    # The traceback is in "exception" already; the structured copy would carry the raw text.
    return RedactingFormatter(service=service_name(), serialize_stacktrace=False)


@cache
def get_metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AgentHub"))


@cache
def get_tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(service=service_name())
