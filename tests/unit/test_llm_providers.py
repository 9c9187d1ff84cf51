"""Building chat models from an LlmSpec (no network), lazy SDK imports, provider error mapping."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
from collections.abc import Iterator

import botocore.exceptions
import httpx2  # the HTTP library of the installed openai SDK: its exceptions need its objects
import openai
import pytest
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agenthub.domain import LlmSpec
from agenthub.errors import ConfigurationError, LlmProviderError
from agenthub.llm import errors as llm_errors
from agenthub.llm.errors import translate_provider_error
from agenthub.llm.offline import OfflineChatModel
from agenthub.llm.providers import (
    OPENROUTER_BASE_URL,
    ModelCache,
    ModelOptions,
    build_chat_model,
)

PLAINTEXT_KEY = "sk-unit-test-0123456789abcdef"
TOKEN = "gAAAAA-encrypted-token"


class CountingDecrypt:
    """Stands in for the Fernet key ring: counts calls, returns the key as a SecretStr."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def __call__(self, token: str) -> SecretStr:
        self.tokens.append(token)
        return SecretStr(PLAINTEXT_KEY)


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for variable in (
        "OPENAI_API_KEY",
        "OPENROUTER_API_KEY",
        "OPENAI_BASE_URL",
        "LANGSMITH_GATEWAY",
    ):
        monkeypatch.delenv(variable, raising=False)
    yield


def spec(provider: str, **overrides: object) -> LlmSpec:
    values: dict[str, object] = {
        "provider": provider,
        "model_name": "gpt-4o-mini",
        "encrypted_api_key": TOKEN,
        "temperature": 0.2,
        "max_tokens": 512,
    }
    values.update(overrides)
    return LlmSpec.model_validate(values)


def build(
    llm: LlmSpec, decrypt: CountingDecrypt | None = None, *, allow_env_key: bool = True
) -> object:
    options = ModelOptions(timeout_s=12.5, max_retries=2, allow_env_key=allow_env_key)
    return build_chat_model(llm, decrypt=decrypt or CountingDecrypt(), options=options)


# ----------------------------------------------------------------------------- building


def test_offline_provider_builds_the_offline_model_without_decrypting() -> None:
    decrypt = CountingDecrypt()

    model = build(spec("offline", model_name="offline", encrypted_api_key=None), decrypt)

    assert isinstance(model, OfflineChatModel)
    assert model.model_name == "offline"
    assert decrypt.tokens == []


def test_openai_model_carries_the_spec_and_the_decrypted_key() -> None:
    decrypt = CountingDecrypt()

    model = build(spec("openai"), decrypt)

    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "gpt-4o-mini"
    assert model.openai_api_base is None  # the SDK's default endpoint
    assert model.request_timeout == 12.5
    assert model.max_retries == 2
    assert model.max_tokens == 512
    assert model.temperature == 0.2
    assert model.stream_usage is True
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == PLAINTEXT_KEY
    assert decrypt.tokens == [TOKEN]


def test_openrouter_uses_its_endpoint_unless_the_spec_names_one() -> None:
    default = build(spec("openrouter", model_name="openai/gpt-4o-mini"))
    custom = build(spec("openrouter", base_url="https://router.example/api/v1"))

    assert isinstance(default, ChatOpenAI)
    assert isinstance(custom, ChatOpenAI)
    assert default.openai_api_base == OPENROUTER_BASE_URL
    assert default.model_name == "openai/gpt-4o-mini"
    assert custom.openai_api_base == "https://router.example/api/v1"


def test_openai_compatible_uses_the_spec_base_url() -> None:
    model = build(spec("openai_compatible", base_url="http://127.0.0.1:8001/v1", model_name="m"))

    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == "http://127.0.0.1:8001/v1"
    assert model.model_name == "m"
    assert model.request_timeout == 12.5
    assert model.max_retries == 2


def test_openai_compatible_without_a_base_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        build(spec("openai_compatible"))


def test_openai_compatible_server_without_a_key_gets_a_placeholder_key() -> None:
    decrypt = CountingDecrypt()

    model = build(
        spec("openai_compatible", base_url="http://127.0.0.1:8001/v1", encrypted_api_key=None),
        decrypt,
    )

    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "not-needed"
    assert decrypt.tokens == []


def test_openai_without_any_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="needs an API key"):
        build(spec("openai", encrypted_api_key=None))


def test_openai_without_a_stored_key_uses_the_platform_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-environment")

    model = build(spec("openai", encrypted_api_key=None))

    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "sk-from-environment"


@pytest.mark.parametrize(
    ("environment", "base_url"),
    [("prod", None), ("local", "https://llm.tenant-chose-this.example/v1")],
    ids=["deployed", "tenant-endpoint"],
)
def test_the_platform_key_never_goes_to_a_deployment_or_a_tenant_endpoint(
    monkeypatch: pytest.MonkeyPatch, environment: str, base_url: str | None
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-environment")

    with pytest.raises(ConfigurationError, match="needs an API key"):
        build(
            spec("openai", encrypted_api_key=None, base_url=base_url),
            allow_env_key=environment == "local",  # what the composition root passes
        )


def test_unknown_provider_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown LLM provider 'cohere'"):
        build(spec("cohere"))


def test_a_warm_container_reuses_the_built_model_and_decrypts_once() -> None:
    decrypt = CountingDecrypt()
    cache = ModelCache(lambda llm: build(llm, decrypt))

    first = cache(spec("openai"))
    again = cache(spec("openai"))
    other_model = cache(spec("openai", model_name="gpt-4.1"))

    assert again is first
    assert other_model is not first
    assert decrypt.tokens == [TOKEN, TOKEN]  # once per distinct spec


def test_the_model_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    decrypt = CountingDecrypt()
    cache = ModelCache(lambda llm: build(llm, decrypt), size=32)
    oldest = spec("openai", model_name="model-0")
    first = cache(oldest)
    for index in range(1, 33):
        cache(spec("openai", model_name=f"model-{index}"))

    rebuilt = cache(oldest)

    assert rebuilt is not first
    assert len(decrypt.tokens) == 34


def test_the_plaintext_key_is_neither_logged_nor_in_the_model_repr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    model = build(spec("openai"))

    assert PLAINTEXT_KEY not in caplog.text
    assert PLAINTEXT_KEY not in repr(model)


@pytest.mark.skipif(
    importlib.util.find_spec("langchain_aws") is None,
    reason="langchain-aws is the optional `bedrock` extra and is not installed here",
)
def test_bedrock_model_uses_the_region_and_no_stored_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_aws import ChatBedrockConverse

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    decrypt = CountingDecrypt()

    model = build(
        spec(
            "bedrock",
            model_name="anthropic.claude-3-haiku-20240307-v1:0",
            encrypted_api_key=None,
            extra={"region": "ap-southeast-1"},
        ),
        decrypt,
    )

    assert isinstance(model, ChatBedrockConverse)
    assert model.model_id == "anthropic.claude-3-haiku-20240307-v1:0"
    assert model.region_name == "ap-southeast-1"
    assert model.max_tokens == 512
    assert decrypt.tokens == []


def test_bedrock_ignores_a_tenant_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests signed with the function's IAM role never go to a host a tenant chose."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    model = build(
        spec(
            "bedrock",
            model_name="anthropic.claude-3-haiku-20240307-v1:0",
            encrypted_api_key=None,
            base_url="https://collector.tenant-chose-this.example",
            extra={"region": "us-east-1"},
        )
    )

    endpoint = model.client.meta.endpoint_url  # type: ignore[attr-defined]
    assert "tenant-chose-this" not in endpoint
    assert endpoint.startswith("https://bedrock-runtime.us-east-1.amazonaws.com")


@pytest.mark.parametrize(
    ("provider", "package", "extra"),
    [
        ("anthropic", "langchain_anthropic", "agenthub[anthropic]"),
        ("google", "langchain_google_genai", "agenthub[google]"),
    ],
)
def test_an_optional_provider_that_is_not_installed_names_its_extra(
    provider: str, package: str, extra: str
) -> None:
    if importlib.util.find_spec(package) is not None:
        pytest.skip(f"{package} is installed: the missing-extra message cannot be shown")

    with pytest.raises(ConfigurationError, match=extra.replace("[", r"\[").replace("]", r"\]")):
        build(spec(provider))


def test_importing_the_llm_package_imports_no_provider_sdk() -> None:
    # A fresh interpreter: this test process has already imported openai and botocore.
    probe = (
        "import sys, agenthub.llm, agenthub.llm.providers, agenthub.llm.errors\n"
        "heavy = ['langchain_openai', 'openai', 'boto3', 'botocore', 'langchain_aws',\n"
        "         'langchain_anthropic', 'anthropic', 'langchain_google_genai', 'google.genai']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )

    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )

    assert completed.stdout.strip() == ""


# ----------------------------------------------------------------------------- provider errors

REQUEST = httpx2.Request("POST", "https://api.openai.com/v1/chat/completions")


def status_error(cls: type[openai.APIStatusError], status: int) -> openai.APIStatusError:
    response = httpx2.Response(status, request=REQUEST, json={"error": {"code": "some_code"}})
    # Providers echo part of the key in their messages: it must not reach ours.
    return cls(
        f"Incorrect API key provided: {PLAINTEXT_KEY}",
        response=response,
        body={"code": "some_code"},
    )


@pytest.mark.parametrize(
    ("error", "message", "status"),
    [
        (status_error(openai.AuthenticationError, 401), llm_errors.REJECTED_KEY, 401),
        (status_error(openai.PermissionDeniedError, 403), llm_errors.REJECTED_KEY, 403),
        (status_error(openai.RateLimitError, 429), llm_errors.RATE_LIMITED, 429),
        (status_error(openai.InternalServerError, 500), llm_errors.FAILED, 500),
        (status_error(openai.InternalServerError, 503), llm_errors.FAILED, 503),
        (status_error(openai.BadRequestError, 400), llm_errors.REJECTED_REQUEST, 400),
    ],
)
def test_openai_status_errors_become_llm_provider_errors(
    error: openai.APIStatusError, message: str, status: int
) -> None:
    translated = translate_provider_error(error)

    assert isinstance(translated, LlmProviderError)
    assert translated.message == message
    assert translated.details["provider"] == "openai"
    assert translated.details["provider_status"] == status
    assert PLAINTEXT_KEY not in str(translated) + repr(translated.details)


def test_openai_timeout_and_connection_errors() -> None:
    timeout = translate_provider_error(openai.APITimeoutError(request=REQUEST))
    unreachable = translate_provider_error(openai.APIConnectionError(request=REQUEST))

    assert timeout is not None
    assert timeout.message == "the LLM provider timed out"
    assert unreachable is not None
    assert unreachable.message == "the LLM provider is unreachable"


def test_a_provider_error_wrapped_by_another_exception_is_found() -> None:
    try:
        try:
            raise status_error(openai.RateLimitError, 429)
        except openai.RateLimitError as inner:
            raise RuntimeError("graph step failed") from inner
    except RuntimeError as outer:
        translated = translate_provider_error(outer)

    assert translated is not None
    assert translated.message == llm_errors.RATE_LIMITED


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("ThrottlingException", 400, llm_errors.RATE_LIMITED),
        ("AccessDeniedException", 403, llm_errors.REJECTED_CREDENTIALS),
        ("ServiceUnavailableException", 503, llm_errors.FAILED),
        ("ModelTimeoutException", 408, llm_errors.TIMED_OUT),
        ("ValidationException", 400, llm_errors.REJECTED_REQUEST),
    ],
)
def test_bedrock_client_errors_become_llm_provider_errors(
    code: str, status: int, message: str
) -> None:
    error = botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Converse",
    )

    translated = translate_provider_error(error)

    assert translated is not None
    assert translated.message == message
    assert translated.details["provider"] == "bedrock"
    assert translated.details["provider_code"] == code


def test_bedrock_connection_and_timeout_errors() -> None:
    endpoint = "https://bedrock-runtime.us-east-1.amazonaws.com"
    unreachable = translate_provider_error(
        botocore.exceptions.EndpointConnectionError(endpoint_url=endpoint)
    )
    timeout = translate_provider_error(botocore.exceptions.ReadTimeoutError(endpoint_url=endpoint))

    assert unreachable is not None
    assert unreachable.message == llm_errors.UNREACHABLE
    assert timeout is not None
    assert timeout.message == llm_errors.TIMED_OUT


def test_a_plain_timeout_is_a_provider_timeout() -> None:
    translated = translate_provider_error(TimeoutError("read timed out"))

    assert translated is not None
    assert translated.message == llm_errors.TIMED_OUT


def test_errors_that_are_not_from_a_provider_are_left_alone() -> None:
    assert translate_provider_error(ValueError("bad")) is None
    assert translate_provider_error(KeyError("x")) is None


def test_the_admin_api_offers_exactly_the_providers_that_can_be_built() -> None:
    from typing import get_args

    from agenthub.api.admin.schemas import LlmProvider
    from agenthub.llm.providers import PROVIDERS

    assert set(get_args(LlmProvider)) == PROVIDERS
