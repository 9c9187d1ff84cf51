"""Structured JSON logging (Powertools Logger) shared by every function.

Every record is JSON, carries the service name, and request id / tenant id when known. Values
that look like secrets (JWTs, bearer tokens, API keys, passwords) are redacted before output.

Request-scoped keys (request id, correlation id, tenant, user) live in a context variable, not
in the Powertools logger's process-wide keys: the local gateway serves several requests at once
on threads of one process, and each request's lines must carry its own ids.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

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
# All of them at once: most log values hold no secret, and one search says so.
_ANY_SECRET = re.compile(
    "|".join(
        f"(?i:{p.pattern.removeprefix('(?i)')})" if p.pattern.startswith("(?i)") else p.pattern
        for p in _SECRET_PATTERNS
    )
)
REDACTED = "[REDACTED]"


def redact_text(text: str) -> str:
    if not _ANY_SECRET.search(text):
        return text
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


# One dict per request, shared by every context copied from the request's (FastAPI runs sync
# dependencies on worker threads with a copy): keys bound in a dependency reach later lines.
_REQUEST_KEYS: ContextVar[dict[str, Any] | None] = ContextVar("agenthub_log_keys", default=None)


@contextlib.contextmanager
def request_log_context(**keys: Any) -> Iterator[dict[str, Any]]:
    """Log lines written inside carry `keys` (and whatever `bind_log_keys` adds) and nothing of
    another request's."""
    scope = {k: v for k, v in keys.items() if v is not None}
    token = _REQUEST_KEYS.set(scope)
    try:
        yield scope
    finally:
        _REQUEST_KEYS.reset(token)


def bind_log_keys(**keys: Any) -> None:
    """Add keys to the current request's log lines (outside a request: to this context only)."""
    scope = _REQUEST_KEYS.get()
    if scope is None:
        scope = {}
        _REQUEST_KEYS.set(scope)
    scope.update({k: v for k, v in keys.items() if v is not None})


def log_keys() -> dict[str, Any]:
    return dict(_REQUEST_KEYS.get() or {})


class RequestKeysFilter(logging.Filter):
    """Puts the current request's keys on each record (the JSON formatter prints extras)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (_REQUEST_KEYS.get() or {}).items():
            record.__dict__.setdefault(name, value)
        return True


_logger_lock = threading.Lock()
_logger: Logger | None = None


def get_logger() -> Logger:
    """The process logger, built once even when the first requests arrive together (the local
    gateway's threads): a half-built Powertools logger has a handler without a formatter, and
    `append_keys` on it fails with `'NoneType' object has no attribute 'append_keys'`."""
    global _logger
    if _logger is None:
        with _logger_lock:
            if _logger is None:
                _logger = _build_logger()
    return _logger


def _build_logger() -> Logger:
    """The process logger; the root logger shares its JSON formatter (no plain-text logs)."""
    from aws_lambda_powertools import Logger

    level = os.environ.get("AGENTHUB_LOG_LEVEL", os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))
    formatter = _redacting_formatter()
    logger = Logger(service=service_name(), level=level, logger_formatter=formatter)
    # Our records are written by the Powertools handler; passing them on to the root handler
    # too would print every line twice (stdout and stderr, two CloudWatch lines).
    logging.getLogger(service_name()).propagate = False
    # On the handlers only: they see every record, ours and our child loggers' (a logger's own
    # filters see only what is logged on it), and a filter on both would scrub ours twice.
    redacting, request_keys = RedactingFilter(), RequestKeysFilter()
    for handler in logger.handlers:
        handler.addFilter(request_keys)
        handler.addFilter(redacting)
    # Library loggers (uvicorn, alembic, httpx, langchain) go through the same JSON formatter.
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setFormatter(formatter)
        handler.addFilter(request_keys)
        handler.addFilter(redacting)
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        handler.addFilter(request_keys)
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


LambdaHandler = Callable[[Any, Any], Any]


def logged_handler(
    *, correlation_id_path: str | None = None
) -> Callable[[LambdaHandler], LambdaHandler]:
    """Wrap a Lambda handler in Powertools' `inject_lambda_context` (cold_start, function_name,
    function_request_id, ... and the correlation id at `correlation_id_path`, e.g.
    `correlation_paths.API_GATEWAY_REST`), and give the invocation its own log scope.

    Powertools keeps those keys process-wide; the scope repeats the per-invocation ones so lines
    stay right when one process serves invocations on several threads (the local gateway).
    """

    def decorate(function: LambdaHandler) -> LambdaHandler:
        logger = get_logger()

        @functools.wraps(function)
        def scoped(event: Any, context: Any) -> Any:
            with request_log_context(
                function_name=getattr(context, "function_name", None),
                function_memory_size=getattr(context, "memory_limit_in_mb", None),
                function_arn=getattr(context, "invoked_function_arn", None),
                function_request_id=getattr(context, "aws_request_id", None),
                correlation_id=_correlation_id(correlation_id_path, event),
            ):
                return function(event, context)

        # clear_state=False: clearing would empty the shared keys under a concurrent invocation.
        wrapped: LambdaHandler = logger.inject_lambda_context(
            correlation_id_path=correlation_id_path, clear_state=False
        )(scoped)
        return wrapped

    return decorate


def _correlation_id(path: str | None, event: Any) -> Any:
    if path is None or not isinstance(event, dict):
        return None
    from aws_lambda_powertools.utilities.jmespath_utils import query

    try:
        return query(envelope=path, data=event)
    except Exception:  # a malformed event must still reach the handler, which answers it
        return None
