"""The reload path: SQS batch -> config_reload handler -> PostgreSQL version and Redis cache."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import redis as redis_lib
from moto import mock_aws

from agenthub.cache.keys import runtime_key, version_key
from agenthub.services.reload import ReloadMessage
from tests.support.lambda_events import LambdaContext, load_handler

pytest_plugins = ["tests.integration.chat_fixtures"]


def sqs_event(bodies: list[str], receive_count: int = 1) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"handle-{i}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": "1700000000000",
                    "SenderId": "AIDTEST",
                    "ApproximateFirstReceiveTimestamp": "1700000000000",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:agenthub-config-reload",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


@pytest.fixture(scope="module")
def reload_handler() -> Any:
    return load_handler("config_reload")


def _versions() -> dict[str, int]:
    from agenthub.composition import get_sessionmaker
    from agenthub.repositories import TenantRepository

    with get_sessionmaker()() as db:
        return {t.id: t.config_version for t in TenantRepository(db).list()}


def test_a_reload_bumps_versions_and_invalidates_redis(
    seeded: None, redis_url: str, reload_handler: Any
) -> None:
    from agenthub.composition import get_config_source

    old = get_config_source().get("acme")
    client = redis_lib.Redis.from_url(redis_url)
    assert client.exists(runtime_key("acme", old.config_version))
    message = ReloadMessage(tenant_ids=("acme",), reason="agent changed").to_json()

    result = reload_handler.handler(sqs_event([message]), LambdaContext())

    assert result == {"batchItemFailures": []}
    assert _versions()["acme"] == old.config_version + 1
    assert int(client.get(version_key("acme"))) == old.config_version + 1
    assert not client.exists(runtime_key("acme", old.config_version))
    assert get_config_source().get("acme").config_version == old.config_version + 1


def test_a_batch_of_ten_with_one_poison_message_fails_exactly_that_one(
    seeded: None, reload_handler: Any
) -> None:
    before = _versions()
    good = ReloadMessage(tenant_ids=("globex",), reason="settings").to_json()
    bodies = [good] * 9
    bodies.insert(4, "{not json")
    event = sqs_event(bodies)

    result = reload_handler.handler(event, LambdaContext())

    failed = [item["itemIdentifier"] for item in result["batchItemFailures"]]
    assert failed == [event["Records"][4]["messageId"]]
    assert _versions()["globex"] == before["globex"] + 9
    assert _versions()["acme"] == before["acme"]


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        json.dumps({"tenant_ids": [], "reason": "x"}),
        json.dumps({"tenant_ids": "acme", "reason": "x"}),
        json.dumps({"tenant_ids": ["acme"]}),
        json.dumps({"tenant_ids": ["acme"], "reason": "x", "config_version": "7"}),
    ],
    ids=["not-an-object", "no-tenants", "tenants-not-a-list", "no-reason", "version-not-int"],
)
def test_malformed_messages_are_poison(seeded: None, reload_handler: Any, body: str) -> None:
    event = sqs_event([body])

    result = reload_handler.handler(event, LambdaContext())

    assert len(result["batchItemFailures"]) == 1


def test_all_tenants_reload_and_unknown_tenants_are_skipped(
    seeded: None, reload_handler: Any
) -> None:
    before = _versions()
    everyone = ReloadMessage(tenant_ids="*", reason="global tool changed").to_json()
    ghost = ReloadMessage(tenant_ids=("ghost", "acme"), reason="x").to_json()

    result = reload_handler.handler(sqs_event([everyone, ghost]), LambdaContext())

    assert result == {"batchItemFailures": []}
    after = _versions()
    assert after == {"acme": before["acme"] + 2, "globex": before["globex"] + 1}


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, str]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        dlq_url = sqs.create_queue(QueueName="agenthub-config-reload-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        queue_url = sqs.create_queue(
            QueueName="agenthub-config-reload",
            Attributes={
                "VisibilityTimeout": "0",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}
                ),
            },
        )["QueueUrl"]
        yield sqs, queue_url, dlq_url


def test_a_poison_message_reaches_the_dlq_after_its_retries(
    seeded: None, reload_handler: Any, queues: tuple[Any, str, str]
) -> None:
    """What the SQS event source mapping does, done by hand: deliver, delete the successes."""
    sqs, queue_url, dlq_url = queues
    sqs.send_message(QueueUrl=queue_url, MessageBody="poison")
    sqs.send_message(
        QueueUrl=queue_url, MessageBody=ReloadMessage(tenant_ids=("acme",), reason="x").to_json()
    )

    for _ in range(5):
        received = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not received:
            continue
        event = sqs_event([m["Body"] for m in received])
        for record, message in zip(event["Records"], received, strict=True):
            record["messageId"] = message["MessageId"]
        result = reload_handler.handler(event, LambdaContext())
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for message in received:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["poison"]
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []
