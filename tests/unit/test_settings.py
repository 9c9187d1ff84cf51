"""Settings: environment, conventional variables, Secrets Manager, refusals outside local mode."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import BaseModel, ValidationError

from agenthub.settings import Settings, get_settings, reset_settings, secret_to_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("AGENTHUB_") or name in {
            "DATABASE_URL",
            "REDIS_URL",
            "AWS_ENDPOINT_URL",
        }:
            monkeypatch.delenv(name)
    reset_settings()


def _production_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHUB_ENV", "prod")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:s3cr3t-pw@db.internal:5432/agenthub")
    monkeypatch.setenv("AGENTHUB_CRYPTO__FERNET_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("AGENTHUB_AUTH__JWKS_URL", "https://auth.example.com/.well-known/jwks.json")


def test_nested_settings_come_from_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHUB_DATABASE__POOL_SIZE", "9")
    monkeypatch.setenv("AGENTHUB_TOOLS__SSRF_ALLOW", "127.0.0.1/32, localhost")
    monkeypatch.setenv("AGENTHUB_CRYPTO__FERNET_KEYS", "k1,k2")

    settings = Settings()

    assert settings.database.pool_size == 9
    assert settings.tools.ssrf_allow == ["127.0.0.1/32", "localhost"]
    assert [k.get_secret_value() for k in settings.crypto.fernet_keys] == ["k1", "k2"]


def test_conventional_variables_fill_their_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@h/db")
    monkeypatch.setenv("REDIS_URL", "redis://h:6379/0")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")

    settings = Settings()

    assert settings.database.url is not None
    assert settings.database.url.get_secret_value() == "postgresql://u:p@h/db"
    assert settings.redis.url is not None
    assert settings.aws.endpoint_url == "http://127.0.0.1:4566"


def test_the_prefixed_variable_wins_over_the_conventional_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://conventional/db")
    monkeypatch.setenv("AGENTHUB_DATABASE__URL", "postgresql://prefixed/db")

    assert Settings().database.url.get_secret_value() == "postgresql://prefixed/db"  # type: ignore[union-attr]


def test_secrets_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    _production_env(monkeypatch)

    settings = Settings()

    assert "s3cr3t-pw" not in repr(settings)
    assert "s3cr3t-pw" not in str(settings.model_dump())
    assert "s3cr3t-pw" not in settings.model_dump_json()


def test_production_settings_build_when_everything_is_real(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _production_env(monkeypatch)

    settings = Settings()

    assert settings.env == "prod" and not settings.is_local


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("AGENTHUB_CRYPTO__FERNET_KEYS", "change-me", "placeholder"),
        ("DATABASE_URL", "postgresql://app:changeme@db/agenthub", "placeholder"),
        ("AGENTHUB_AUTH__PUBLIC_KEY_PEM", "placeholder", "placeholder"),
    ],
)
def test_placeholder_secrets_are_refused_outside_local_mode(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, complaint: str
) -> None:
    _production_env(monkeypatch)
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError, match=complaint):
        Settings()


def test_a_missing_database_is_refused_outside_local_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHUB_ENV", "staging")

    with pytest.raises(ValidationError, match=r"database\.url"):
        Settings()


def test_keys_are_required_where_they_are_used_not_by_every_function(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Sessions, retention and reload need neither Fernet keys nor the JWT key source's secret;
    the key ring and the verifier refuse to work without theirs."""
    from agenthub.auth.jwt import JwtVerifier
    from agenthub.crypto import keyring_from_settings
    from agenthub.errors import ConfigurationError

    monkeypatch.setenv("AGENTHUB_ENV", "prod")
    monkeypatch.setenv("AGENTHUB_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:s3cr3t-pw@db.internal:5432/agenthub")

    settings = Settings()

    with pytest.raises(ConfigurationError):
        keyring_from_settings(settings)
    with pytest.raises(ConfigurationError):
        JwtVerifier.from_settings(settings)
    assert not (tmp_path / "fernet.key").exists()


def test_local_mode_needs_no_secret() -> None:
    settings = Settings()

    assert settings.is_local and settings.database.url is None


def test_settings_are_cached_and_not_built_at_import() -> None:
    reset_settings()
    first = get_settings()

    assert get_settings() is first
    reset_settings()
    assert get_settings() is not first


def test_an_rds_credentials_secret_becomes_the_database_url() -> None:
    secret = {
        "username": "agenthub",
        "password": "p@ss/word",
        "host": "proxy.example.rds.amazonaws.com",
        "port": 5432,
        "dbname": "agenthub",
    }

    assert secret_to_settings(secret) == {
        "database": {
            "url": "postgresql://agenthub:p%40ss%2Fword@proxy.example.rds.amazonaws.com:5432/agenthub"
        }
    }


def test_other_secrets_map_keys_to_setting_paths() -> None:
    assert secret_to_settings({"crypto__fernet_keys": "a,b", "AGENTHUB_AUTH__ISSUER": "x"}) == {
        "crypto": {"fernet_keys": "a,b"},
        "auth": {"issuer": "x"},
    }


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text()

    def names(model: type[BaseModel], prefix: str) -> list[str]:
        found = []
        for field_name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                found += names(annotation, f"{prefix}{field_name.upper()}__")
            else:
                found.append(f"{prefix}{field_name.upper()}")
        return found

    missing = [n for n in names(Settings, "AGENTHUB_") if f"`{n}`" not in readme]
    assert missing == []
    for variable in ("DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL", "AGENTHUB_SECRET_IDS"):
        assert re.search(rf"`{variable}`", readme)


def test_secrets_manager_values_feed_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    key = Fernet.generate_key().decode()
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        app = client.create_secret(
            Name="agenthub/app", SecretString=json.dumps({"crypto__fernet_keys": key})
        )["ARN"]
        client.create_secret(
            Name="agenthub/db",
            SecretString=json.dumps(
                {"username": "app", "password": "pw", "host": "db.internal", "dbname": "hub"}
            ),
        )
        monkeypatch.setenv("AGENTHUB_SECRET_IDS", f"{app}, agenthub/db")
        monkeypatch.setenv("AGENTHUB_ENV", "prod")
        monkeypatch.setenv("AGENTHUB_AUTH__JWKS_URL", "https://auth.example.com/jwks.json")

        settings = Settings()

    assert [k.get_secret_value() for k in settings.crypto.fernet_keys] == [key]
    assert settings.database.url is not None
    assert settings.database.url.get_secret_value() == "postgresql://app:pw@db.internal:5432/hub"
