"""The local SQS event source (moto server) and the local schedule: Lambda's delivery semantics."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agenthub.embedded import free_port
from agenthub.local.aws import (
    LOCAL_SECRET_ID,
    MAX_RECEIVE_COUNT,
    LocalAwsResources,
    LocalAwsServer,
    aws_client,
    bootstrap,
)
from agenthub.local.http_server import PortInUseError
from agenthub.local.poller import SqsEventSourcePoller
from agenthub.local.schedule import IntervalSchedule

FERNET_KEY = "x" * 43 + "="


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = LocalAwsServer(port=free_port())
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
def moto_url(moto_server: str) -> str:
    """The moto server, emptied: its in-memory state is per process, not per server."""
    httpx.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    return moto_server


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def resources(moto_url: str, aws_env: None) -> LocalAwsResources:
    return bootstrap(moto_url, fernet_key=FERNET_KEY, visibility_timeout_s=1)


@pytest.fixture
def sqs(moto_url: str, aws_env: None) -> Iterator[Any]:
    client = aws_client("sqs", moto_url)
    yield client
    client.close()


class RecordingFunction:
    """A handler stand-in: fails the bodies it is told to, records every batch it gets."""

    def __init__(self, failing: frozenset[str] = frozenset(), raise_error: bool = False) -> None:
        self.failing = failing
        self.raise_error = raise_error
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        if self.raise_error:
            raise RuntimeError("function crashed")
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]}
                for r in event["Records"]
                if r["body"] in self.failing
            ]
        }


def _poller(sqs: Any, resources: LocalAwsResources, invoke: Any) -> SqsEventSourcePoller:
    return SqsEventSourcePoller(
        sqs=sqs, queue_url=resources.queue_url, invoke=invoke, wait_time_s=1
    )


def _count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_bootstrap_creates_the_queue_with_its_redrive_policy_and_the_secret(
    resources: LocalAwsResources, moto_url: str, sqs: Any
) -> None:
    attributes = sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == resources.dlq_arn
    assert int(redrive["maxReceiveCount"]) == MAX_RECEIVE_COUNT
    secrets = aws_client("secretsmanager", moto_url)
    secret = secrets.get_secret_value(SecretId=LOCAL_SECRET_ID)["SecretString"]
    secrets.close()
    assert json.loads(secret) == {"crypto__fernet_keys": FERNET_KEY}


def test_bootstrap_is_idempotent(resources: LocalAwsResources, moto_url: str) -> None:
    again = bootstrap(moto_url, fernet_key="other", visibility_timeout_s=1)

    assert again == resources


def test_a_batch_arrives_as_an_sqs_event_and_successes_are_deleted(
    resources: LocalAwsResources, sqs: Any
) -> None:
    sqs.send_message(QueueUrl=resources.queue_url, MessageBody='{"tenant_ids": ["acme"]}')
    function = RecordingFunction()

    outcome = _poller(sqs, resources, function).poll_once()

    assert outcome is not None and (outcome.received, outcome.failed_ids) == (1, ())
    record = function.events[0]["Records"][0]
    assert record["body"] == '{"tenant_ids": ["acme"]}'
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == resources.queue_arn
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["receiptHandle"] and record["messageId"] and record["md5OfBody"]
    assert _count(sqs, resources.queue_url) == 0


def test_only_reported_failures_stay_and_reach_the_dlq_after_max_receives(
    resources: LocalAwsResources, sqs: Any
) -> None:
    for body in ("good", "bad"):
        sqs.send_message(QueueUrl=resources.queue_url, MessageBody=body)
    function = RecordingFunction(failing=frozenset({"bad"}))
    poller = _poller(sqs, resources, function)

    # GIVEN a batch where one message fails
    first = poller.poll_once()
    assert first is not None and first.received == 2 and len(first.failed_ids) == 1
    # THEN the good one is gone, the bad one waits for its visibility timeout
    assert _count(sqs, resources.queue_url) == 1

    # WHEN the bad message keeps failing THEN it is redelivered until maxReceiveCount...
    counts = []
    deadline = time.monotonic() + 15
    while _count(sqs, resources.dlq_url) == 0 and time.monotonic() < deadline:
        outcome = poller.poll_once()
        if outcome is not None:
            counts.append(
                function.events[-1]["Records"][0]["attributes"]["ApproximateReceiveCount"]
            )
    # ...and then moved to the dead-letter queue by the redrive policy
    assert counts == ["2", "3"]
    assert _count(sqs, resources.dlq_url) == 1
    assert _count(sqs, resources.queue_url) == 0


def test_a_function_error_fails_the_whole_batch(resources: LocalAwsResources, sqs: Any) -> None:
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=resources.queue_url, MessageBody=body)

    outcome = _poller(sqs, resources, RecordingFunction(raise_error=True)).poll_once()

    assert outcome is not None and len(outcome.failed_ids) == 2
    assert outcome.error == "RuntimeError: function crashed"
    assert _count(sqs, resources.queue_url) == 2


def test_a_failure_report_naming_an_unknown_message_fails_the_whole_batch(
    resources: LocalAwsResources, sqs: Any
) -> None:
    sqs.send_message(QueueUrl=resources.queue_url, MessageBody="a")

    def bad_report(event: dict[str, Any]) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}

    outcome = _poller(sqs, resources, bad_report).poll_once()

    assert outcome is not None and len(outcome.failed_ids) == 1
    assert _count(sqs, resources.queue_url) == 1


def test_the_running_poller_delivers_and_stops_within_one_long_poll(
    resources: LocalAwsResources, sqs: Any
) -> None:
    delivered = threading.Event()
    poller = SqsEventSourcePoller(
        sqs=sqs,
        queue_url=resources.queue_url,
        invoke=lambda event: None,
        wait_time_s=1,
        on_batch=lambda outcome: delivered.set(),
    ).start()
    try:
        sqs.send_message(QueueUrl=resources.queue_url, MessageBody="x")
        assert delivered.wait(10)
    finally:
        started = time.monotonic()
        poller.stop()
    assert time.monotonic() - started < 3
    assert _count(sqs, resources.queue_url) == 0


def test_a_taken_port_is_refused_before_moto_starts(moto_url: str) -> None:
    port = int(moto_url.rsplit(":", 1)[1])

    with pytest.raises(PortInUseError, match=f"port {port} .*AWS_ENDPOINT_URL"):
        LocalAwsServer(port=port).start()


def test_the_schedule_runs_at_start_and_then_every_interval() -> None:
    events: list[dict[str, Any]] = []
    schedule = IntervalSchedule(
        invoke=lambda event: events.append(event), interval_s=0.2, rule_name="rule-x"
    ).start()
    time.sleep(0.5)
    schedule.stop()
    runs = len(events)
    time.sleep(0.3)

    assert 2 <= runs <= 4
    assert len(events) == runs  # stopped means stopped
    event = events[0]
    assert (event["source"], event["detail-type"]) == ("aws.events", "Scheduled Event")
    assert event["resources"][0].endswith(":rule/rule-x")
    assert event["time"].endswith("Z")


def test_a_failing_scheduled_run_is_reported_and_the_schedule_goes_on() -> None:
    runs: list[Any] = []

    def broken(event: dict[str, Any]) -> None:
        raise ValueError("nope")

    schedule = IntervalSchedule(
        invoke=broken, interval_s=0.1, rule_name="r", on_run=runs.append
    ).start()
    time.sleep(0.35)
    schedule.stop()

    assert len(runs) >= 2
    assert runs[0].error == "ValueError: nope"
