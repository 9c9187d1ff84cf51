"""Build the LangChain chat model an `LlmSpec` describes.

Each provider's integration package is imported inside its own branch only: a Lambda cold start
that never uses Bedrock must not pay for `boto3`/`langchain_aws`, and one on the offline model
pays for no SDK at all. The API key is decrypted in memory when the model is built and handed
over as a `SecretStr`; it is never logged.

Everything from outside (the decryptor, timeouts, the SSRF-guarded HTTP clients, whether the
platform's environment key may be used) comes in as arguments; the composition root keeps the
built models in a `ModelCache` so a warm container reuses their HTTP clients.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from agenthub.domain import LlmSpec
from agenthub.errors import ConfigurationError

if TYPE_CHECKING:
    import httpx2

OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"
PROVIDERS = frozenset(
    {"offline", "openai", "openrouter", "openai_compatible", "bedrock", "anthropic", "google"}
)
# Many OpenAI-compatible servers (vLLM, Ollama, LM Studio) need no key, but the client wants one.
_NO_KEY = "not-needed"
MODEL_CACHE_SIZE = 32

Decrypt = Callable[[str], SecretStr]


@dataclass(frozen=True)
class ProviderHttp:
    """The SSRF-guarded HTTP clients provider SDKs must use (connect-time address check, no
    redirects): a tenant admin chooses the `base_url`, so the SDK's own client, which follows
    redirects and resolves DNS again, must never carry a transcript there."""

    sync: Callable[[], httpx2.Client]
    async_: Callable[[], httpx2.AsyncClient]


@dataclass(frozen=True)
class ModelOptions:
    """What building a model takes from the deployment (settings values, clients)."""

    timeout_s: float
    max_retries: int
    http: ProviderHttp | None = None  # None: the SDK's own client (tests without network only)
    # The platform's environment key is a local-demo convenience (settings.is_local) only.
    allow_env_key: bool = False
    aws_region: str = "us-east-1"


def build_chat_model(spec: LlmSpec, *, decrypt: Decrypt, options: ModelOptions) -> BaseChatModel:
    """The chat model for `spec` (a new one each call: cache it with `ModelCache`)."""
    return _build(spec, decrypt=decrypt, options=options)


class ModelCache:
    """A small LRU of built models, keyed by the spec (it carries the encrypted key only)."""

    def __init__(self, build: Callable[[LlmSpec], BaseChatModel], size: int = MODEL_CACHE_SIZE):
        self._build = build
        self._size = size
        self._models: OrderedDict[str, BaseChatModel] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, spec: LlmSpec) -> BaseChatModel:
        key = spec.model_dump_json()
        with self._lock:
            cached = self._models.get(key)
            if cached is not None:
                self._models.move_to_end(key)
                return cached
        model = self._build(spec)
        with self._lock:
            self._models[key] = model
            self._models.move_to_end(key)
            while len(self._models) > self._size:
                self._models.popitem(last=False)
        return model

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


def _build(spec: LlmSpec, *, decrypt: Decrypt, options: ModelOptions) -> BaseChatModel:
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
        return _openai_like(spec, decrypt=decrypt, options=options)
    if provider == "bedrock":
        return _bedrock(spec, options=options)
    if provider == "anthropic":
        return _anthropic(spec, decrypt=decrypt, options=options)
    if provider == "google":
        return _google(spec, decrypt=decrypt, options=options)
    known = ", ".join(sorted(PROVIDERS))
    raise ConfigurationError(f"unknown LLM provider {provider!r} (known: {known})")


def _api_key(
    spec: LlmSpec, decrypt: Decrypt, options: ModelOptions, *, env: str | None = None
) -> SecretStr | None:
    if spec.encrypted_api_key:
        return decrypt(spec.encrypted_api_key)
    # The environment's key is a local-demo convenience only: never in a deployment (it is the
    # platform's key, not the tenant's), and never towards an endpoint a tenant chose.
    if env is None or spec.base_url or not options.allow_env_key:
        return None
    fallback = os.environ.get(env)
    return SecretStr(fallback) if fallback else None


def _openai_like(spec: LlmSpec, *, decrypt: Decrypt, options: ModelOptions) -> BaseChatModel:
    base_url = spec.base_url
    if spec.provider == "openrouter":
        base_url = base_url or OPENROUTER_BASE_URL
        api_key = _api_key(spec, decrypt, options, env="OPENROUTER_API_KEY")
    elif spec.provider == "openai_compatible":
        if not base_url:
            raise ConfigurationError("provider openai_compatible needs a base_url")
        api_key = _api_key(spec, decrypt, options) or SecretStr(_NO_KEY)
    else:
        api_key = _api_key(spec, decrypt, options, env="OPENAI_API_KEY")
    if api_key is None:
        raise ConfigurationError(f"provider {spec.provider} needs an API key; none is configured")
    from langchain_openai import ChatOpenAI

    from agenthub.llm.openai_completions import plain_json_completions

    model = ChatOpenAI(
        model=spec.model_name,
        api_key=api_key,
        base_url=base_url,
        temperature=spec.temperature,
        # langchain-openai 1.x: `max_completion_tokens` (`max_tokens` is its deprecated alias).
        max_completion_tokens=spec.max_tokens,
        timeout=options.timeout_s,
        max_retries=options.max_retries,
        stream_usage=True,
        **_http_clients(options),
        **_model_kwargs(spec),
    )
    # The SDK's request transform costs 1.85 ms of CPU a call and changes nothing in langchain's
    # JSON (llm/openai_completions.py); everything else stays the SDK's.
    model.client, model.async_client = plain_json_completions(
        model.root_client, model.root_async_client
    )
    return model


def _bedrock(spec: LlmSpec, *, options: ModelOptions) -> BaseChatModel:
    # Credentials come from the environment / the function's IAM role, never from a stored key.
    try:
        from botocore.config import Config
        from langchain_aws import ChatBedrockConverse
    except ImportError as exc:
        raise ConfigurationError(
            "provider bedrock needs the bedrock extra: install agenthub[bedrock]"
        ) from exc
    region = str(spec.extra.get("region") or options.aws_region)
    config = Config(
        connect_timeout=min(options.timeout_s, 10.0),
        read_timeout=options.timeout_s,
        retries={"total_max_attempts": options.max_retries + 1, "mode": "standard"},
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


def _anthropic(spec: LlmSpec, *, decrypt: Decrypt, options: ModelOptions) -> BaseChatModel:
    try:
        from langchain_anthropic import ChatAnthropic
    except ImportError as exc:
        raise ConfigurationError(
            "provider anthropic needs the anthropic extra: install agenthub[anthropic]"
        ) from exc
    api_key = _api_key(spec, decrypt, options, env="ANTHROPIC_API_KEY")
    if api_key is None:
        raise ConfigurationError("provider anthropic needs an API key; none is configured")
    if spec.base_url:
        # Its SDK client cannot be given the SSRF-guarded transport here: a tenant-chosen
        # endpoint would be reached unguarded. Anthropic-compatible proxies: openai_compatible.
        raise ConfigurationError(
            "provider anthropic takes no base_url; use openai_compatible for another endpoint"
        )
    model: BaseChatModel = ChatAnthropic(
        model=spec.model_name,
        api_key=api_key,
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
        timeout=options.timeout_s,
        max_retries=options.max_retries,
    )
    return model


def _google(spec: LlmSpec, *, decrypt: Decrypt, options: ModelOptions) -> BaseChatModel:
    try:
        from langchain_google_genai import ChatGoogleGenerativeAI
    except ImportError as exc:
        raise ConfigurationError(
            "provider google needs the google extra: install agenthub[google]"
        ) from exc
    api_key = _api_key(spec, decrypt, options, env="GOOGLE_API_KEY")
    if api_key is None:
        raise ConfigurationError("provider google needs an API key; none is configured")
    model: BaseChatModel = ChatGoogleGenerativeAI(
        model=spec.model_name,
        google_api_key=api_key,
        temperature=spec.temperature,
        max_output_tokens=spec.max_tokens,
        timeout=options.timeout_s,
        max_retries=options.max_retries,
    )
    return model


def _model_kwargs(spec: LlmSpec) -> dict[str, Any]:
    """Extra request parameters an admin stored under `extra.model_kwargs` (e.g. top_p)."""
    kwargs = spec.extra.get("model_kwargs")
    return {"model_kwargs": dict(kwargs)} if isinstance(kwargs, dict) and kwargs else {}


def _http_clients(options: ModelOptions) -> dict[str, Any]:
    """The guarded clients for the openai SDK (httpx2-based; langchain-openai takes both)."""
    if options.http is None:
        return {}
    return {"http_client": options.http.sync(), "http_async_client": options.http.async_()}
