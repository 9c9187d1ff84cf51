"""SQS batch -> document ingestion, with partial batch failure reporting.

A document that cannot be indexed fails alone: it is marked `failed` with its reason, its record
is reported as failed (retried by SQS, then moved to the DLQ), and the rest of the batch is
indexed. A malformed message fails alone the same way.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


@cache
def _processor() -> BatchProcessor:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    return BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def ingest_record(record: SQSRecord) -> dict[str, Any]:
    from agenthub.composition import get_ingestor
    from agenthub.knowledge.queue import IngestMessage

    outcome = get_ingestor().ingest(IngestMessage.from_json(record.body))
    return {"document_id": outcome.document_id, "status": outcome.status, "chunks": outcome.chunks}


def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import process_partial_response

    result = process_partial_response(
        event=event, record_handler=ingest_record, processor=_processor(), context=context
    )
    return dict(result)
