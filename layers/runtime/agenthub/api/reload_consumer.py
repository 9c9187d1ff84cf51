"""SQS batch -> config reload, with partial batch failure reporting (one bad record fails alone)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


@cache
def _processor() -> BatchProcessor:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    # Report a wholly failed batch item by item too, rather than raising: same retry semantics,
    # and the function's result always says which records failed.
    return BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def reload_record(record: SQSRecord) -> dict[str, Any]:
    from agenthub.composition import get_config_cache, get_sessionmaker
    from agenthub.services.config_reload import apply_reload
    from agenthub.services.reload import ReloadMessage

    message = ReloadMessage.from_json(record.body)
    result = apply_reload(message, sessions=get_sessionmaker(), cache=get_config_cache())
    return {"versions": result.versions, "unknown_tenants": list(result.unknown_tenants)}


def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import process_partial_response

    result = process_partial_response(
        event=event, record_handler=reload_record, processor=_processor(), context=context
    )
    return dict(result)
