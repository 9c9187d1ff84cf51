"""A database credentials secret becomes `database.url`; the environment may point it at RDS Proxy.

In Lambda the RDS-managed secret names the instance (or no host at all), while the functions must
connect to the RDS Proxy endpoint: `DATABASE_HOST` (and `DATABASE_PORT`, `DATABASE_NAME`) from the
template override the secret's connection fields; the credentials always come from the secret.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from agenthub.settings import Settings, database_overrides, secret_to_settings

RDS_SECRET = {
    "username": "agenthub",
    "password": "p@ss:w/rd",
    "engine": "postgres",
    "host": "agenthub-db.abc123.us-east-1.rds.amazonaws.com",
    "port": 5432,
    "dbname": "agenthub",
}
PROXY_HOST = "agenthub-proxy.proxy-abc123.us-east-1.rds.amazonaws.com"


def test_an_rds_secret_becomes_a_url_with_its_own_host_and_quoted_credentials() -> None:
    settings = secret_to_settings(RDS_SECRET)

    assert settings == {
        "database": {
            "url": "postgresql://agenthub:p%40ss%3Aw%2Frd"
            "@agenthub-db.abc123.us-east-1.rds.amazonaws.com:5432/agenthub"
        }
    }


def test_the_environment_host_port_and_name_override_the_secrets() -> None:
    overrides = database_overrides(
        {"DATABASE_HOST": PROXY_HOST, "DATABASE_PORT": "6432", "DATABASE_NAME": "chat"}
    )

    url = secret_to_settings(RDS_SECRET, database_overrides=overrides)["database"]["url"]

    assert url == f"postgresql://agenthub:p%40ss%3Aw%2Frd@{PROXY_HOST}:6432/chat"


def test_an_rds_managed_master_secret_without_host_uses_the_proxy_endpoint() -> None:
    # RDS `ManageMasterUserPassword` secrets hold only the username and the password.
    secret = {"username": "agenthub", "password": "s3cret"}

    url = secret_to_settings(secret, database_overrides={"host": PROXY_HOST})["database"]["url"]

    assert url == f"postgresql://agenthub:s3cret@{PROXY_HOST}:5432/agenthub"


def test_a_credentials_secret_without_any_host_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match="DATABASE_HOST"):
        secret_to_settings({"username": "agenthub", "password": "s3cret"})


def test_empty_override_variables_are_ignored() -> None:
    assert database_overrides({"DATABASE_HOST": "", "DATABASE_NAME": "chat", "OTHER": "x"}) == {
        "dbname": "chat"
    }


def test_a_settings_secret_maps_setting_paths_and_ignores_overrides() -> None:
    secret = {"crypto__fernet_keys": "k1,k2", "AGENTHUB_AUTH__JWKS_URL": "https://idp/jwks"}

    settings = secret_to_settings(secret, database_overrides={"host": PROXY_HOST})

    assert settings == {
        "crypto": {"fernet_keys": "k1,k2"},
        "auth": {"jwks_url": "https://idp/jwks"},
    }


@pytest.fixture
def secrets_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An in-process Secrets Manager (moto), with a clean database and AGENTHUB_* environment."""
    for name in list(os.environ):
        if name.startswith(("AGENTHUB_", "DATABASE_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_lambda_settings_connect_through_the_proxy_named_by_database_host(
    secrets_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the two secrets the template passes in AGENTHUB_SECRET_IDS, and the proxy endpoint
    client = secrets_manager
    db_arn = client.create_secret(Name="rds!db-1", SecretString=json.dumps(RDS_SECRET))["ARN"]
    keys_arn = client.create_secret(
        Name="agenthub/prod/fernet",
        SecretString=json.dumps({"crypto__fernet_keys": "a" * 43 + "=,b" + "b" * 42 + "="}),
    )["ARN"]
    monkeypatch.setenv("AGENTHUB_SECRET_IDS", f"{db_arn},{keys_arn}")
    monkeypatch.setenv("DATABASE_HOST", PROXY_HOST)

    # WHEN the settings are built
    settings = Settings(env="test")

    # THEN the URL carries the secret's credentials and the proxy host; the keys are loaded
    assert settings.database.url is not None
    url = settings.database.url.get_secret_value()
    assert url == f"postgresql://agenthub:p%40ss%3Aw%2Frd@{PROXY_HOST}:5432/agenthub"
    assert len(settings.crypto.fernet_keys) == 2
