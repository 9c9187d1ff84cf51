"""EventBridge `rate(...)` schedules, locally: invoke a function at start-up and every interval."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agenthub.local.lambda_runtime import LOCAL_ACCOUNT_ID, LOCAL_REGION, thread_event_loop

Invoke = Callable[[dict[str, Any]], Any]


def scheduled_event(
    *, rule_name: str, region: str = LOCAL_REGION, now: datetime | None = None
) -> dict[str, Any]:
    """The event EventBridge sends to a scheduled rule's target."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT_ID,
        "time": moment.isoformat().replace("+00:00", "Z"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{LOCAL_ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


@dataclass(frozen=True)
class ScheduledRun:
    rule_name: str
    duration_s: float
    result: Any = None
    error: str | None = None


class IntervalSchedule:
    """Runs a function with a scheduled event now and then every `interval_s`, in a thread."""

    def __init__(
        self,
        *,
        invoke: Invoke,
        interval_s: float,
        rule_name: str,
        region: str = LOCAL_REGION,
        run_at_start: bool = True,
        on_run: Callable[[ScheduledRun], None] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._invoke = invoke
        self.interval_s = interval_s
        self.rule_name = rule_name
        self._region = region
        self._run_at_start = run_at_start
        self._on_run = on_run
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> ScheduledRun:
        started = time.monotonic()
        try:
            result = self._invoke(scheduled_event(rule_name=self.rule_name, region=self._region))
            run = ScheduledRun(self.rule_name, time.monotonic() - started, result=result)
        except Exception as exc:  # a failed run is reported; the next one still happens
            run = ScheduledRun(
                self.rule_name, time.monotonic() - started, error=f"{type(exc).__name__}: {exc}"
            )
        if self._on_run is not None:
            self._on_run(run)
        return run

    def start(self) -> IntervalSchedule:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.rule_name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop waiting for the next run; a run in progress is allowed to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        with thread_event_loop():
            if self._run_at_start and not self._stop.is_set():
                self.run_once()
            while not self._stop.wait(self.interval_s):
                self.run_once()
