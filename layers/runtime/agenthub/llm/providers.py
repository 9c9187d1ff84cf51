"""Build the LangChain chat model an `LlmSpec` describes.

Each provider's integration package is imported inside its own branch only: a Lambda cold start
that never uses Bedrock must not pay for `boto3`/`langchain_aws`, and one on the offline model
pays for no SDK at all. The API key is decrypted in memory when the model is built and handed
over as a `SecretStr`; it is never logged. Built models are kept in a small LRU so a warm
container reuses their HTTP clients.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from agenthub.domain import LlmSpec
from agenthub.errors import ConfigurationError

OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"
PROVIDERS = frozenset(
    {"offline", "openai", "openrouter", "openai_compatible", "bedrock", "anthropic", "google"}
)
# Many OpenAI-compatible servers (vLLM, Ollama, LM Studio) need no key, but the client wants one.
_NO_KEY = "not-needed"
_MODEL_CACHE_SIZE = 32

Decrypt = Callable[[str], SecretStr]

_cache: OrderedDict[tuple[str, float, int], BaseChatModel] = OrderedDict()
_cache_lock = threading.Lock()


def build_chat_model(
    spec: LlmSpec, *, decrypt: Decrypt, timeout_s: float, max_retries: int
) -> BaseChatModel:
    """The chat model for `spec`, reused while the container is warm."""
    # The spec carries the encrypted key only: a safe cache key.
    key = (spec.model_dump_json(), float(timeout_s), int(max_retries))
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    model = _build(spec, decrypt=decrypt, timeout_s=timeout_s, max_retries=max_retries)
    with _cache_lock:
        _cache[key] = model
        _cache.move_to_end(key)
        while len(_cache) > _MODEL_CACHE_SIZE:
            _cache.popitem(last=False)
    return model


def clear_model_cache() -> None:
    """Forget every built model (tests; after the LLM configuration or keys change)."""
    with _cache_lock:
        _cache.clear()


def _build(spec: LlmSpec, *, decrypt: Decrypt, timeout_s: float, max_retries: int) -> BaseChatModel:
    provider = spec.provider
    if provider == "offline":
        try:
            from agenthub.llm.offline import OfflineChatModel
        except ImportError as exc:  # the Lambda layer leaves the local/dev offline model out
            raise ConfigurationError(
                "the offline model is a local development model and is not part of this "
                "deployment; give the tenant a real LLM provider"
            ) from exc
        return OfflineChatModel(model_name=spec.model_name)
    if provider in ("openai", "openrouter", "openai_compatible"):
        return _openai_like(spec, decrypt=decrypt, timeout_s=timeout_s, max_retries=max_retries)
    if provider == "bedrock":
        return _bedrock(spec, timeout_s=timeout_s, max_retries=max_retries)
    if provider == "anthropic":
        return _anthropic(spec, decrypt=decrypt, timeout_s=timeout_s, max_retries=max_retries)
    if provider == "google":
        return _google(spec, decrypt=decrypt, timeout_s=timeout_s, max_retries=max_retries)
    known = ", ".join(sorted(PROVIDERS))
    raise ConfigurationError(f"unknown LLM provider {provider!r} (known: {known})")


def _api_key(spec: LlmSpec, decrypt: Decrypt, *, env: str | None = None) -> SecretStr | None:
    if spec.encrypted_api_key:
        return decrypt(spec.encrypted_api_key)
    # The environment's key is a local-demo convenience only: never in a deployment (it is the
    # platform's key, not the tenant's), and never towards an endpoint a tenant chose.
    from agenthub.settings import get_settings

    if env is None or spec.base_url or not get_settings().is_local:
        return None
    fallback = os.environ.get(env)
    return SecretStr(fallback) if fallback else None


def _openai_like(
    spec: LlmSpec, *, decrypt: Decrypt, timeout_s: float, max_retries: int
) -> BaseChatModel:
    base_url = spec.base_url
    if spec.provider == "openrouter":
        base_url = base_url or OPENROUTER_BASE_URL
        api_key = _api_key(spec, decrypt, env="OPENROUTER_API_KEY")
    elif spec.provider == "openai_compatible":
        if not base_url:
            raise ConfigurationError("provider openai_compatible needs a base_url")
        api_key = _api_key(spec, decrypt) or SecretStr(_NO_KEY)
    else:
        api_key = _api_key(spec, decrypt, env="OPENAI_API_KEY")
    if api_key is None:
        raise ConfigurationError(f"provider {spec.provider} needs an API key; none is configured")
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=spec.model_name,
        api_key=api_key,
        base_url=base_url,
        temperature=spec.temperature,
        # langchain-openai 1.x: `max_completion_tokens` (`max_tokens` is its deprecated alias).
        max_completion_tokens=spec.max_tokens,
        timeout=timeout_s,
        max_retries=max_retries,
        stream_usage=True,
        **_model_kwargs(spec),
    )


def _bedrock(spec: LlmSpec, *, timeout_s: float, max_retries: int) -> BaseChatModel:
    # Credentials come from the environment / the function's IAM role, never from a stored key.
    try:
        from botocore.config import Config
        from langchain_aws import ChatBedrockConverse
    except ImportError as exc:
        raise ConfigurationError(
            "provider bedrock needs the bedrock extra: install agenthub[bedrock]"
        ) from exc
    from agenthub.settings import get_settings

    region = str(spec.extra.get("region") or get_settings().aws.region)
    config = Config(
        connect_timeout=min(timeout_s, 10.0),
        read_timeout=timeout_s,
        retries={"total_max_attempts": max_retries + 1, "mode": "standard"},
    )
    model: BaseChatModel = ChatBedrockConverse(
        model_id=spec.model_name,
        region_name=region,
        # Not the tenant-editable base_url: requests signed with the function's IAM role must
        # only go where the platform says (extra.endpoint_url, e.g. a VPC endpoint).
        endpoint_url=spec.extra.get("endpoint_url"),
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
        config=config,
    )
    return model


def _anthropic(
    spec: LlmSpec, *, decrypt: Decrypt, timeout_s: float, max_retries: int
) -> BaseChatModel:
    try:
        from langchain_anthropic import ChatAnthropic
    except ImportError as exc:
        raise ConfigurationError(
            "provider anthropic needs the anthropic extra: install agenthub[anthropic]"
        ) from exc
    api_key = _api_key(spec, decrypt, env="ANTHROPIC_API_KEY")
    if api_key is None:
        raise ConfigurationError("provider anthropic needs an API key; none is configured")
    options: dict[str, Any] = {"base_url": spec.base_url} if spec.base_url else {}
    model: BaseChatModel = ChatAnthropic(
        model=spec.model_name,
        api_key=api_key,
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
        timeout=timeout_s,
        max_retries=max_retries,
        **options,
    )
    return model


def _google(
    spec: LlmSpec, *, decrypt: Decrypt, timeout_s: float, max_retries: int
) -> BaseChatModel:
    try:
        from langchain_google_genai import ChatGoogleGenerativeAI
    except ImportError as exc:
        raise ConfigurationError(
            "provider google needs the google extra: install agenthub[google]"
        ) from exc
    api_key = _api_key(spec, decrypt, env="GOOGLE_API_KEY")
    if api_key is None:
        raise ConfigurationError("provider google needs an API key; none is configured")
    model: BaseChatModel = ChatGoogleGenerativeAI(
        model=spec.model_name,
        google_api_key=api_key,
        temperature=spec.temperature,
        max_output_tokens=spec.max_tokens,
        timeout=timeout_s,
        max_retries=max_retries,
    )
    return model


def _model_kwargs(spec: LlmSpec) -> dict[str, Any]:
    """Extra request parameters an admin stored under `extra.model_kwargs` (e.g. top_p)."""
    kwargs = spec.extra.get("model_kwargs")
    return {"model_kwargs": dict(kwargs)} if isinstance(kwargs, dict) and kwargs else {}
