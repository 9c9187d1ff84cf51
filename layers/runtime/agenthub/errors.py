"""Domain errors and the one table that maps them to HTTP.

AgentHubError
├── BadRequestError            400 bad_request
├── AuthenticationError        401 unauthenticated
├── PermissionDeniedError      403 forbidden
├── NotFoundError              404 not_found
├── ConflictError              409 conflict
│   └── VersionConflictError   409 version_conflict
├── PayloadTooLargeError       413 payload_too_large
├── ValidationFailedError      422 validation_error
├── RateLimitedError           429 rate_limited
├── UpstreamError              502 upstream_error
│   ├── LlmProviderError       502 llm_provider_error
│   └── StorageError           502 storage_unavailable (S3)
├── ServiceUnavailableError    503 service_unavailable
├── ConfigurationError         500 configuration_error (settings, keys)
├── DecryptionError            500 decryption_error
└── ToolCallError              (never reaches HTTP: becomes a tool result)
    └── SsrfBlockedError       (also 422 when a tool is saved)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class AgentHubError(Exception):
    """Base of every error AgentHub raises on purpose."""

    code = "internal_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequestError(AgentHubError):
    code = "bad_request"


class AuthenticationError(AgentHubError):
    code = "unauthenticated"


class PermissionDeniedError(AgentHubError):
    code = "forbidden"


class NotFoundError(AgentHubError):
    code = "not_found"


class ConflictError(AgentHubError):
    code = "conflict"


class VersionConflictError(ConflictError):
    code = "version_conflict"


class PayloadTooLargeError(AgentHubError):
    code = "payload_too_large"


class ValidationFailedError(AgentHubError):
    code = "validation_error"


class RateLimitedError(AgentHubError):
    code = "rate_limited"


class UpstreamError(AgentHubError):
    code = "upstream_error"


class LlmProviderError(UpstreamError):
    code = "llm_provider_error"


class StorageError(UpstreamError):
    code = "storage_unavailable"


class ServiceUnavailableError(AgentHubError):
    code = "service_unavailable"


class ConfigurationError(AgentHubError):
    code = "configuration_error"


class DecryptionError(AgentHubError):
    code = "decryption_error"


class ToolCallError(AgentHubError):
    code = "tool_error"


class SsrfBlockedError(ToolCallError):
    code = "ssrf_blocked"


@dataclass(frozen=True)
class HttpError:
    status: int
    code: str


# Most specific class first: the first match wins.
HTTP_STATUS_BY_ERROR: tuple[tuple[type[AgentHubError], int], ...] = (
    (BadRequestError, 400),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (PayloadTooLargeError, 413),
    (ValidationFailedError, 422),
    (SsrfBlockedError, 422),
    (RateLimitedError, 429),
    (UpstreamError, 502),
    (ServiceUnavailableError, 503),
)


def http_error_for(error: AgentHubError) -> HttpError:
    for error_type, status in HTTP_STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return HttpError(status=status, code=error.code)
    return HttpError(status=500, code=error.code)
