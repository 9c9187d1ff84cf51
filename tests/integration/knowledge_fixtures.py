"""Knowledge fixtures: a real Chroma server, moto S3 + SQS (ingestion queue with its DLQ), and
helpers to run the ingest function the way Lambda's SQS event source does.

Load with `pytest_plugins = ["tests.integration.chat_fixtures",
"tests.integration.admin_fixtures", "tests.integration.knowledge_fixtures"]`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.integration.knowledge_support import Drain, KnowledgeStack
from tests.integration.storage_fixtures import FilesBucket
from tests.support.lambda_events import LambdaContext, load_handler

INGEST_MAX_RECEIVES = 2


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (`chroma run`), or the one CHROMA_URL names.

    Its data lives under this run's (this worker's) temporary root, removed when the run ends.
    """
    configured = os.environ.get("CHROMA_URL")
    if configured:
        yield configured
        return
    from agenthub.embedded import free_port
    from agenthub.local.chroma import EmbeddedChroma

    server = EmbeddedChroma(tmp_path_factory.mktemp("chroma"), port=free_port())
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def knowledge_stack(
    app_env: None,
    files_bucket: FilesBucket,
    chroma_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[KnowledgeStack]:
    """Chroma, the files bucket and the ingestion queue (+ DLQ) and reload queue on moto."""
    from agenthub import composition

    sqs = boto3.client("sqs", endpoint_url=files_bucket.endpoint_url, region_name="us-east-1")
    suffix = uuid.uuid4().hex[:8]
    dlq_url = sqs.create_queue(QueueName=f"ingest-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    ingest_url = sqs.create_queue(
        QueueName=f"ingest-{suffix}",
        Attributes={
            # Zero: a failed record is visible again at once (the test drives the retries).
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(INGEST_MAX_RECEIVES)}
            ),
        },
    )["QueueUrl"]
    reload_url = sqs.create_queue(QueueName=f"reload-{suffix}")["QueueUrl"]
    monkeypatch.setenv("CHROMA_URL", chroma_url)
    monkeypatch.setenv("AGENTHUB_AWS__INGEST_QUEUE_URL", ingest_url)
    monkeypatch.setenv("AGENTHUB_AWS__RELOAD_QUEUE_URL", reload_url)
    composition.reset()
    yield KnowledgeStack(
        sqs=sqs,
        ingest_url=ingest_url,
        dlq_url=dlq_url,
        reload_url=reload_url,
        bucket=files_bucket,
        chroma_url=chroma_url,
    )
    composition.reset()


@pytest.fixture(scope="session")
def ingest_handler() -> ModuleType:
    return load_handler("ingest")


@pytest.fixture
def drain_ingest(knowledge_stack: KnowledgeStack, ingest_handler: ModuleType) -> Drain:
    """Deliver the ingestion queue to the real ingest handler (as Lambda's event source mapping
    does, partial failures honoured) until it is empty; the batch outcomes."""
    from agenthub.local.poller import SqsEventSourcePoller

    poller = SqsEventSourcePoller(
        sqs=knowledge_stack.sqs,
        queue_url=knowledge_stack.ingest_url,
        invoke=lambda event: ingest_handler.handler(event, LambdaContext()),
        wait_time_s=0,
        region="us-east-1",
    )

    def drain(max_batches: int = 50) -> list[Any]:
        outcomes = []
        for _ in range(max_batches):
            outcome = poller.poll_once()
            if outcome is None:
                break
            outcomes.append(outcome)
        return outcomes

    return drain
