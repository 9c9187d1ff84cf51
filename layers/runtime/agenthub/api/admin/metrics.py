"""`/api/admin/metrics`: agent, tool and LLM usage per tenant and period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from agenthub.api.admin.deps import AdminActor, Metrics
from agenthub.api.admin.schemas import MetricsPublic
from agenthub.db.models import TENANT_ID_PATTERN
from agenthub.services.admin.inputs import invalid

DEFAULT_PERIOD = timedelta(days=7)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

router = APIRouter(prefix="/api/admin", tags=["metrics"])


@router.get(
    "/metrics",
    response_model=MetricsPublic,
    summary="Usage over a period: agent and tool calls, tool errors and latency, tokens, cost",
    responses={
        403: {"description": "a tenant admin asking for another tenant"},
        404: {"description": "no such tenant"},
        422: {"description": "invalid period or group_by"},
    },
)
def get_metrics(
    actor: AdminActor,
    metrics: Metrics,
    tenant_id: Annotated[str | None, Query(pattern=TENANT_ID_PATTERN)] = None,
    start: Annotated[
        datetime | None, Query(alias="from", description="default: `to` minus 7 days")
    ] = None,
    end: Annotated[datetime | None, Query(alias="to", description="default: now")] = None,
    group_by: Literal["agent", "tool", "model"] | None = None,
) -> Any:
    end = _in_range("to", end) if end is not None else datetime.now(UTC)
    start = _in_range("from", start) if start is not None else end - DEFAULT_PERIOD
    report = metrics.report(actor, tenant_id=tenant_id, start=start, end=end, group_by=group_by)
    return MetricsPublic.of_report(report)


def _in_range(field: str, moment: datetime) -> datetime:
    """The moment in UTC (no zone: UTC), between EARLIEST and LATEST, else a 422 naming it.

    The calendar's edges (year 1, year 9999 with a zone) overflow when shifted to UTC or by the
    default period, and PostgreSQL's range is not Python's: refused here, not a 500 later.
    """
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        utc = aware.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise invalid(field, f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
    return utc
