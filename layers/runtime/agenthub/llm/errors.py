"""Translate LLM provider SDK errors into `LlmProviderError`, at the adapter boundary.

Recognised by class name and module, so that no provider SDK is imported to check: importing
`openai` or `botocore` here would cost every cold start. Messages are ours and never carry the
provider's text (which may echo part of an API key); the provider's status goes in `details`.
"""

from __future__ import annotations

from typing import Any

from agenthub.errors import LlmProviderError

REJECTED_KEY = "the LLM provider rejected the API key"
REJECTED_CREDENTIALS = "the LLM provider rejected the credentials"
RATE_LIMITED = "the LLM provider is rate limiting requests"
FAILED = "the LLM provider failed"
TIMED_OUT = "the LLM provider timed out"
UNREACHABLE = "the LLM provider is unreachable"
REJECTED_REQUEST = "the LLM provider rejected the request"

# Root module of an exception class -> the provider it belongs to.
_PROVIDERS = {
    "openai": "openai",
    "langchain_openai": "openai",
    "anthropic": "anthropic",
    "langchain_anthropic": "anthropic",
    "botocore": "bedrock",
    "langchain_aws": "bedrock",
    "google": "google",
    "langchain_google_genai": "google",
}
_HTTP_LIBRARIES = frozenset({"httpx", "httpx2", "httpcore", "httpcore2"})
_BEDROCK_CODES = {
    "ThrottlingException": 429,
    "TooManyRequestsException": 429,
    "ServiceQuotaExceededException": 429,
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 403,
    "ExpiredTokenException": 403,
    "InvalidSignatureException": 403,
    "ServiceUnavailableException": 503,
    "InternalServerException": 500,
    "ModelNotReadyException": 503,
}
_MAX_CHAIN = 6


def translate_provider_error(exc: BaseException) -> LlmProviderError | None:
    """The `LlmProviderError` for a provider failure (or one it caused), else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < _MAX_CHAIN:
        seen.add(id(current))
        if isinstance(current, LlmProviderError):
            return current
        translated = _translate(current)
        if translated is not None:
            return translated
        current = current.__cause__ or current.__context__
    return None


def _translate(exc: BaseException) -> LlmProviderError | None:
    names = {cls.__name__ for cls in type(exc).__mro__}
    root = type(exc).__module__.split(".")[0]
    provider = _PROVIDERS.get(root)
    if root in ("openai", "anthropic"):
        return _from_stainless_sdk(exc, names, provider)
    if root == "botocore":
        return _from_botocore(exc, names)
    if root == "google":
        status = getattr(exc, "code", None)
        if "DeadlineExceeded" in names:
            return _error(TIMED_OUT, exc, provider, status if isinstance(status, int) else None)
        if isinstance(status, int) and 400 <= status <= 599:
            return _by_status(status, exc, provider)
        return None
    if root in _HTTP_LIBRARIES or isinstance(exc, TimeoutError):
        if any("Timeout" in name for name in names):
            return _error(TIMED_OUT, exc, provider, None)
        if "ConnectError" in names:
            return _error(UNREACHABLE, exc, provider, None)
    return None


def _from_stainless_sdk(
    exc: BaseException, names: set[str], provider: str | None
) -> LlmProviderError | None:
    """openai and anthropic share one generated error hierarchy."""
    if "APITimeoutError" in names:
        return _error(TIMED_OUT, exc, provider, None)
    if "APIConnectionError" in names:
        return _error(UNREACHABLE, exc, provider, None)
    status = getattr(exc, "status_code", None)
    if "APIStatusError" in names and isinstance(status, int):
        return _by_status(status, exc, provider, code=getattr(exc, "code", None))
    if {"OpenAIError", "AnthropicError"} & names:
        return _error(FAILED, exc, provider, None)
    return None


def _from_botocore(exc: BaseException, names: set[str]) -> LlmProviderError | None:
    if "ClientError" in names:
        response: dict[str, Any] = getattr(exc, "response", None) or {}
        code = str(response.get("Error", {}).get("Code") or "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "ModelTimeoutException":
            return _error(TIMED_OUT, exc, "bedrock", status, code=code)
        mapped = _BEDROCK_CODES.get(code, status if isinstance(status, int) else 500)
        translated = _by_status(mapped, exc, "bedrock", code=code or None)
        if mapped in (401, 403):
            translated = _error(REJECTED_CREDENTIALS, exc, "bedrock", status, code=code)
        return translated
    if {"ReadTimeoutError", "ConnectTimeoutError"} & names:
        return _error(TIMED_OUT, exc, "bedrock", None)
    if {"EndpointConnectionError", "ConnectionClosedError"} & names:
        return _error(UNREACHABLE, exc, "bedrock", None)
    if {"NoCredentialsError", "PartialCredentialsError"} & names:
        return _error(REJECTED_CREDENTIALS, exc, "bedrock", None)
    return None


def _by_status(
    status: int, exc: BaseException, provider: str | None, *, code: Any = None
) -> LlmProviderError:
    if status in (401, 403):
        message = REJECTED_KEY
    elif status == 429:
        message = RATE_LIMITED
    elif status == 408:
        message = TIMED_OUT
    elif status >= 500:
        message = FAILED
    else:
        message = REJECTED_REQUEST
    return _error(message, exc, provider, status, code=code)


def _error(
    message: str, exc: BaseException, provider: str | None, status: Any, *, code: Any = None
) -> LlmProviderError:
    details: dict[str, Any] = {"provider": provider or "unknown", "error_type": type(exc).__name__}
    if isinstance(status, int):
        details["provider_status"] = status
    if code:
        details["provider_code"] = str(code)
    return LlmProviderError(message, details=details)
