"""Fixtures for the admin tests: demo data, an SQS reload queue (moto), the admin handler.

Load with
`pytest_plugins = ["tests.integration.chat_fixtures", "tests.integration.admin_fixtures"]`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.integration.admin_support import PLATFORM, UNUSED_API, Admin, ReloadQueue
from tests.support.lambda_events import HttpResult, invoke, load_handler, rest_event


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def admin_seeded(app_env: None) -> None:
    """The demo seed: tenants acme and globex, both with the debt and shipment agents."""
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.services.seed import seed_demo

    with transaction(get_sessionmaker()) as db:
        seed_demo(db, keyring=get_keyring(), api_url=UNUSED_API)


@pytest.fixture
def reload_queue(
    admin_seeded: None, aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ReloadQueue]:
    """A real (moto) SQS queue configured as the reload queue."""
    from agenthub import composition

    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        url = client.create_queue(QueueName="agenthub-config-reload")["QueueUrl"]
        monkeypatch.setenv("AGENTHUB_AWS__RELOAD_QUEUE_URL", url)
        composition.reset()
        yield ReloadQueue(client=client, url=url)
        composition.reset()


@pytest.fixture(scope="session")
def admin_handler() -> ModuleType:
    return load_handler("admin")


@pytest.fixture
def admin(admin_handler: ModuleType, token_for: Callable[..., str]) -> Admin:
    """Call the admin Lambda handler: `admin("PATCH", "/api/admin/...", body, roles=...)`."""

    def call(
        method: str,
        path: str,
        body: Any = None,
        *,
        tenant: str = "acme",
        user: str = "root",
        roles: tuple[str, ...] = PLATFORM,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
    ) -> HttpResult:
        event = rest_event(
            method,
            path,
            body=body,
            token=token_for(tenant, user, roles=roles),
            resource="/api/admin/{proxy+}",
            path_parameters={"proxy": path.removeprefix("/api/admin/")},
            headers=headers,
            query=query,
            raw_body=raw_body,
        )
        return invoke(admin_handler, event)

    return call
