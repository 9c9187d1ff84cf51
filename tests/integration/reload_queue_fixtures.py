"""`sqs_reload_queue`: a real (moto) SQS queue configured as the reload queue, nothing else.

Load with `pytest_plugins = ["tests.integration.reload_queue_fixtures"]`. For tests of commands
that change config outside the admin API (the CLI) and must tell running containers to reload.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.integration.admin_support import ReloadQueue


@pytest.fixture
def sqs_reload_queue(base_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReloadQueue]:
    from agenthub import composition

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        url = client.create_queue(QueueName="agenthub-config-reload")["QueueUrl"]
        monkeypatch.setenv("AGENTHUB_AWS__RELOAD_QUEUE_URL", url)
        composition.reset()
        yield ReloadQueue(client=client, url=url)
        composition.reset()
