"""Typed settings: one pydantic-settings model, built lazily by `get_settings()`.

Sources, highest priority first: constructor arguments, environment (`AGENTHUB_*` with `__`
between nested names, plus the conventional `DATABASE_URL`, `REDIS_URL`, `AWS_ENDPOINT_URL`,
`CHROMA_URL`), AWS Secrets Manager (the secrets named in `AGENTHUB_SECRET_IDS`), defaults.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

Environment = Literal["local", "test", "dev", "staging", "prod"]
LOCAL_ENVIRONMENTS: frozenset[str] = frozenset({"local", "test"})

# Values that look like someone forgot to set a real secret.
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "replace-me", "example", "dummy")

# Conventional variables that map onto nested settings.
_CONVENTIONAL_ENV = {
    "DATABASE_URL": ("database", "url"),
    "REDIS_URL": ("redis", "url"),
    "AWS_ENDPOINT_URL": ("aws", "endpoint_url"),
    "AWS_REGION": ("aws", "region"),
    "AWS_DEFAULT_REGION": ("aws", "region"),
    "CHROMA_URL": ("tools", "chroma_url"),
}

# Environment variables that override the connection fields of a database credentials secret.
_DATABASE_OVERRIDES = {"DATABASE_HOST": "host", "DATABASE_PORT": "port", "DATABASE_NAME": "dbname"}


class DatabaseSettings(BaseModel):
    url: SecretStr | None = Field(
        default=None, description="PostgreSQL URL; unset in local mode starts embedded PostgreSQL"
    )
    pool_size: int = Field(default=5, ge=1, le=100)
    max_overflow: int = Field(default=5, ge=0, le=100)
    pool_timeout_s: float = Field(default=5.0, gt=0)
    statement_timeout_ms: int = Field(default=15_000, ge=100)


class RedisSettings(BaseModel):
    url: SecretStr | None = Field(
        default=None, description="Redis URL; unset in local mode starts embedded Redis"
    )
    socket_timeout_s: float = Field(default=0.25, gt=0)
    connect_timeout_s: float = Field(default=0.25, gt=0)
    # After a failure, skip Redis for this long instead of hammering it (no retry storm).
    failure_backoff_s: float = Field(default=5.0, ge=0)


class AwsSettings(BaseModel):
    region: str = "us-east-1"
    endpoint_url: str | None = None
    reload_queue_url: str | None = None
    # Tenant files (knowledge documents, chat attachments), every key under tenant/{id}/.
    files_bucket: str | None = None
    # Knowledge ingestion: S3 uploads become messages here (the ingest function consumes them).
    ingest_queue_url: str | None = None


class AuthSettings(BaseModel):
    issuer: str = "agenthub-local"
    audience: str = "agenthub"
    public_key_pem: SecretStr | None = None
    jwks_url: str | None = None
    jwks_cache_ttl_s: int = Field(default=3600, ge=0)
    max_token_lifetime_s: int = Field(default=86_400, ge=60, le=86_400)
    leeway_s: int = Field(default=30, ge=0, le=300)


class CryptoSettings(BaseModel):
    # Comma separated; the first key encrypts, every key decrypts (MultiFernet).
    fernet_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)

    @field_validator("fernet_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class LlmSettings(BaseModel):
    # The turn deadline stops new model and tool calls; one already started may still take
    # request_timeout_s x (1 + max_retries). Keep turn_timeout_s plus that under the function's
    # timeout (29 s behind API Gateway): 12 + 8 x 2 = 28.
    request_timeout_s: float = Field(default=8.0, gt=0)
    max_retries: int = Field(default=1, ge=0, le=5)
    turn_timeout_s: float = Field(default=12.0, gt=0)
    max_steps: int = Field(default=12, ge=2, le=100)


class CacheSettings(BaseModel):
    # The design fixes the Redis TTL at exactly one hour.
    ttl_s: int = Field(default=3600, ge=1)
    l1_max_tenants: int = Field(default=256, ge=1)
    rebuild_lock_s: float = Field(default=5.0, gt=0)


class ToolsSettings(BaseModel):
    default_timeout_s: float = Field(default=8.0, gt=0, le=60)
    max_response_bytes: int = Field(default=256_000, ge=1024)
    # Hosts or CIDRs that the SSRF guard lets through (the local demo needs loopback).
    ssrf_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    chroma_url: str | None = None

    @field_validator("ssrf_allow", mode="before")
    @classmethod
    def _split_allow(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class UploadSettings(BaseModel):
    """Chat attachments (files under tenant/{t}/user/{u}/ in the files bucket)."""

    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    # Posted through the API itself; on AWS a Lambda request is at most 6 MB (base64 included).
    direct_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    url_ttl_s: int = Field(default=600, ge=60, le=3600)
    # Uploads never sent in a chat message (or whose conversation was deleted) are removed by
    # retention after this long.
    unlinked_ttl_s: int = Field(default=86_400, ge=600)


class OcrSettings(BaseModel):
    # auto: Tesseract in local mode, Textract elsewhere.
    engine: Literal["auto", "tesseract", "textract"] = "auto"
    languages: str = "vie+eng"
    max_pages: int = Field(default=10, ge=1, le=100)
    max_pixels: int = Field(default=40_000_000, ge=100_000)
    timeout_s: float = Field(default=20.0, gt=0)
    render_dpi: int = Field(default=200, ge=100, le=600)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AGENTHUB_",
        env_nested_delimiter="__",
        extra="ignore",
        case_sensitive=False,
    )

    env: Environment = "local"
    state_dir: Path = Path(".agenthub")
    log_level: str = "INFO"

    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    aws: AwsSettings = AwsSettings()
    auth: AuthSettings = AuthSettings()
    crypto: CryptoSettings = CryptoSettings()
    llm: LlmSettings = LlmSettings()
    cache: CacheSettings = CacheSettings()
    tools: ToolsSettings = ToolsSettings()
    uploads: UploadSettings = UploadSettings()
    ocr: OcrSettings = OcrSettings()

    @property
    def is_local(self) -> bool:
        return self.env in LOCAL_ENVIRONMENTS

    @model_validator(mode="after")
    def _refuse_placeholders_outside_local(self) -> Settings:
        if self.is_local:
            return self
        problems: list[str] = []
        secrets: dict[str, SecretStr | None] = {
            "database.url": self.database.url,
            "redis.url": self.redis.url,
            "auth.public_key_pem": self.auth.public_key_pem,
        }
        for index, key in enumerate(self.crypto.fernet_keys):
            secrets[f"crypto.fernet_keys[{index}]"] = key
        for name, secret in secrets.items():
            if secret is not None and _looks_like_placeholder(secret.get_secret_value()):
                problems.append(f"{name} holds a placeholder value")
        if self.database.url is None:
            problems.append("database.url (DATABASE_URL) is required outside local mode")
        # Fernet keys and the JWT key source are required where they are used (the key ring,
        # the verifier): functions that need neither (sessions, retention, reload) get neither.
        if problems:
            raise ValueError(f"refusing settings for env={self.env}: " + "; ".join(problems))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            ConventionalEnvSource(settings_cls),
            SecretsManagerSource(settings_cls),
        )


def _looks_like_placeholder(value: str) -> bool:
    lowered = value.lower()
    return not value.strip() or any(marker in lowered for marker in _PLACEHOLDER_MARKERS)


class ConventionalEnvSource(PydanticBaseSettingsSource):
    """`DATABASE_URL`, `REDIS_URL`, `AWS_ENDPOINT_URL`... mapped onto nested settings."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ does the work

    def __call__(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for variable, (section, key) in _CONVENTIONAL_ENV.items():
            value = os.environ.get(variable)
            if value:
                data.setdefault(section, {}).setdefault(key, value)
        return data


class SecretsManagerSource(PydanticBaseSettingsSource):
    """Reads JSON secrets named by `AGENTHUB_SECRET_IDS` (comma separated ARNs or names).

    Keys are setting paths such as `crypto__fernet_keys` or `database__url`; an RDS-managed
    credentials secret (`username`, `password`, `host`, `port`, `dbname`) becomes `database.url`,
    with `DATABASE_HOST` / `DATABASE_PORT` / `DATABASE_NAME` from the environment taking
    precedence over the secret's connection fields (see `secret_to_settings`).
    """

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ does the work

    def __call__(self) -> dict[str, Any]:
        secret_ids = [s.strip() for s in os.environ.get("AGENTHUB_SECRET_IDS", "").split(",")]
        secret_ids = [s for s in secret_ids if s]
        if not secret_ids:
            return {}
        import boto3  # only when secrets are configured: keeps cold start small

        client = boto3.client(
            "secretsmanager",
            region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
        )
        overrides = database_overrides(os.environ)
        data: dict[str, Any] = {}
        for secret_id in secret_ids:
            raw = client.get_secret_value(SecretId=secret_id)["SecretString"]
            _merge(data, secret_to_settings(json.loads(raw), database_overrides=overrides))
        return data


def database_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """The connection fields set in the environment (`DATABASE_HOST`, `_PORT`, `_NAME`)."""
    return {field: environ[var] for var, field in _DATABASE_OVERRIDES.items() if environ.get(var)}


def secret_to_settings(
    secret: dict[str, Any], *, database_overrides: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Turn one secret's JSON object into a nested settings dict.

    A credentials secret (`username` and `password`) becomes `database.url`; its `host`, `port`
    and `dbname` give way to `database_overrides` (with RDS Proxy the functions connect to the
    proxy endpoint, while the secret, often managed by RDS, names the instance or no host).
    """
    if {"username", "password"} <= secret.keys():
        from urllib.parse import quote

        fields = {**secret, **(database_overrides or {})}
        if not fields.get("host"):
            raise ValueError(
                "the database credentials secret has no host: set DATABASE_HOST "
                "(the RDS Proxy or instance endpoint)"
            )
        url = (
            f"postgresql://{quote(str(fields['username']), safe='')}:"
            f"{quote(str(fields['password']), safe='')}@{fields['host']}:"
            f"{fields.get('port') or 5432}/{fields.get('dbname') or 'agenthub'}"
        )
        return {"database": {"url": url}}
    nested: dict[str, Any] = {}
    for key, value in secret.items():
        parts = key.lower().removeprefix("agenthub_").split("__")
        cursor = nested
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = value
    return nested


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


@cache
def get_settings() -> Settings:
    """The process-wide settings, built on first use (never at import time)."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
