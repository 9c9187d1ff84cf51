"""Lambda's SQS event source mapping, locally: long-poll a queue, invoke a function with batches.

Partial batch failures (`ReportBatchItemFailures`) are honoured like Lambda does: only the
messages the function reports as successful are deleted; the failed ones become visible again
after the queue's visibility timeout and, after `maxReceiveCount` receives, the queue's redrive
policy moves them to the dead-letter queue. A function error, or a failure report naming a
message that was not in the batch, fails the whole batch.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agenthub.local.lambda_runtime import LOCAL_REGION, thread_event_loop

Invoke = Callable[[dict[str, Any]], Any]
MAX_BATCH_SIZE = 10  # SQS returns at most 10 messages per receive


@dataclass(frozen=True)
class BatchOutcome:
    received: int
    failed_ids: tuple[str, ...]
    error: str | None = None  # set when the whole batch failed

    @property
    def succeeded(self) -> int:
        return self.received - len(self.failed_ids)


def sqs_event(
    messages: Sequence[Mapping[str, Any]], *, queue_arn: str, region: str
) -> dict[str, Any]:
    """The event Lambda sends for a batch of SQS messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes") or {}),
                "messageAttributes": {
                    name: _message_attribute(value)
                    for name, value in (message.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": message.get("MD5OfBody")
                or hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    # The event spells SQS's MessageAttributeValue in camel case.
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": value.get("BinaryValue"),
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": list(value.get("BinaryListValues") or []),
        "dataType": value.get("DataType"),
    }


def failed_message_ids(result: Any, batch_ids: Sequence[str]) -> tuple[str, ...]:
    """The ids to keep on the queue, from the function's `batchItemFailures` response."""
    if not isinstance(result, Mapping) or not result.get("batchItemFailures"):
        return ()
    failures = result["batchItemFailures"]
    if not isinstance(failures, list):
        return tuple(batch_ids)
    ids = []
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(item, str) or item not in batch_ids:
            return tuple(batch_ids)  # Lambda treats an invalid report as a failed batch
        ids.append(item)
    return tuple(dict.fromkeys(ids))


class SqsEventSourcePoller:
    """Delivers a queue's messages to a function in batches, in a background thread."""

    def __init__(
        self,
        *,
        sqs: Any,
        queue_url: str,
        invoke: Invoke,
        batch_size: int = MAX_BATCH_SIZE,
        wait_time_s: int = 2,
        region: str = LOCAL_REGION,
        on_batch: Callable[[BatchOutcome], None] | None = None,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._invoke = invoke
        self._batch_size = max(1, min(batch_size, MAX_BATCH_SIZE))
        self._wait_time_s = wait_time_s
        self._region = region
        self._on_batch = on_batch
        self._queue_arn: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def queue_arn(self) -> str:
        if self._queue_arn is None:
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=self._queue_url, AttributeNames=["QueueArn"]
            )["Attributes"]
            self._queue_arn = str(attributes["QueueArn"])
        return self._queue_arn

    def poll_once(self) -> BatchOutcome | None:
        """Receive one batch (long poll), invoke, delete the successes; None when empty."""
        received = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=self._wait_time_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = received.get("Messages") or []
        if not messages:
            return None
        batch_ids = [m["MessageId"] for m in messages]
        event = sqs_event(messages, queue_arn=self.queue_arn(), region=self._region)
        try:
            failed = failed_message_ids(self._invoke(event), batch_ids)
            outcome = BatchOutcome(received=len(messages), failed_ids=failed)
        except Exception as exc:
            outcome = BatchOutcome(
                received=len(messages),
                failed_ids=tuple(batch_ids),
                error=f"{type(exc).__name__}: {exc}",
            )
        done = [m for m in messages if m["MessageId"] not in outcome.failed_ids]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]}
                    for index, m in enumerate(done)
                ],
            )
        if self._on_batch is not None:
            self._on_batch(outcome)
        return outcome

    def start(self) -> SqsEventSourcePoller:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sqs-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float | None = None) -> None:
        """Stop after the current long poll (at most `wait_time_s`) and batch."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s if timeout_s is not None else self._wait_time_s + 10)
            self._thread = None

    def _run(self) -> None:
        with thread_event_loop():
            reported = False  # one console line per outage, not one per second
            while not self._stop.is_set():
                try:
                    self.poll_once()
                    reported = False
                except Exception as exc:  # the endpoint went away, throttling, ...
                    if not reported:
                        print(f"reload queue poller: {type(exc).__name__}: {exc}", file=sys.stderr)
                        reported = True
                    self._stop.wait(1.0)
