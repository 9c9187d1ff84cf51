"""Retention: remove conversations idle for longer than their tenant's `retention_days`.

A conversation is expired when `last_activity_at < now - retention_days`: one last active
exactly `retention_days` ago is kept, one a second older goes. Its session, messages and
LangGraph checkpoints are deleted together, a batch of sessions per transaction. A run stops
cleanly before its deadline (the Lambda's remaining time, less a safety margin) and the next
run picks up where it stopped; running again after a complete run deletes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.engine import transaction
from agenthub.db.models import ChatSession
from agenthub.observability import get_logger
from agenthub.repositories import ChatSessionRepository, MessageRepository, TenantRepository
from agenthub.services.sessions import ThreadStore, memory_thread

if TYPE_CHECKING:
    from agenthub.services.uploads import UploadCleaner

DEFAULT_BATCH_SIZE = 200
# Longer than one batch can take (statement timeout included), short of the Lambda timeout.
DEFAULT_SAFETY_MARGIN_MS = 20_000

# Purges the vectors and files of tenants not in the given set; the tenants purged.
TenantDataSweep = Callable[[set[str]], Sequence[str]]

# Milliseconds left before the deadline (a Lambda context's `get_remaining_time_in_millis`).
RemainingTime = Callable[[], int]


@dataclass(frozen=True)
class RetentionReport:
    """What one run removed (or, in a dry run, would remove).

    `tenants` counts the tenants that had expired conversations; `finished` is False when the
    run stopped at its deadline with work left for the next run.
    """

    tenants: int
    sessions: int
    messages: int
    checkpoints: int
    finished: bool
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Batch:
    sessions: int
    messages: int
    checkpoints: int
    # Keyset position (last_activity_at, id) of the batch's last session: the next one starts there.
    last: tuple[datetime, uuid.UUID] | None


_EMPTY = _Batch(sessions=0, messages=0, checkpoints=0, last=None)


@dataclass
class _Totals:
    tenant_ids: set[str] = field(default_factory=set)
    sessions: int = 0
    messages: int = 0
    checkpoints: int = 0

    def add(self, tenant_id: str, batch: _Batch) -> None:
        if batch.sessions:
            self.tenant_ids.add(tenant_id)
        self.sessions += batch.sessions
        self.messages += batch.messages
        self.checkpoints += batch.checkpoints

    def report(self, *, finished: bool, dry_run: bool) -> RetentionReport:
        return RetentionReport(
            tenants=len(self.tenant_ids),
            sessions=self.sessions,
            messages=self.messages,
            checkpoints=self.checkpoints,
            finished=finished,
            dry_run=dry_run,
        )


class RetentionService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        threads: ThreadStore,
        tenant_data_sweep: TenantDataSweep | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        safety_margin_ms: int = DEFAULT_SAFETY_MARGIN_MS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        files: UploadCleaner | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._sessions = sessions
        self._threads = threads
        self._tenant_data_sweep = tenant_data_sweep
        self._batch_size = batch_size
        self._safety_margin_ms = safety_margin_ms
        self._clock = clock
        # Chat attachments: deleted with their conversation (None: no files bucket here).
        self._files = files

    def run(
        self,
        *,
        tenant_id: str | None = None,
        dry_run: bool = False,
        remaining_ms: RemainingTime | None = None,
    ) -> RetentionReport:
        """Purge the expired conversations of every tenant, or of `tenant_id` only.

        `remaining_ms` is checked before each batch; without it the run goes to the end.
        `dry_run` counts what would be removed and changes nothing.
        """
        now = self._clock()
        totals = _Totals()
        finished = True
        for tenant, retention_days in self._tenants(tenant_id):
            cutoff = now - timedelta(days=retention_days)
            if not self._purge_tenant(tenant, cutoff, dry_run, remaining_ms, totals):
                finished = False
                break
            if self._files is not None and not dry_run:
                swept = self._files.sweep_unlinked(tenant_id=tenant, now=now)
                if swept:
                    get_logger().info(
                        "unsent uploads removed", extra={"tenant_id": tenant, "uploads": swept}
                    )
        if finished and not dry_run and tenant_id is None:
            self._sweep_deleted_tenants()
        report = totals.report(finished=finished, dry_run=dry_run)
        get_logger().info("retention run", extra={"retention": report.as_dict()})
        return report

    def _sweep_deleted_tenants(self) -> None:
        """Vectors and files of tenants that no longer exist (a tenant deletion whose purge did
        not finish); best effort: the conversations' retention is done either way."""
        if self._tenant_data_sweep is None:
            return
        try:
            known = {tenant for tenant, _ in self._tenants(None)}
            swept = self._tenant_data_sweep(known)
        except Exception as exc:
            get_logger().warning("tenant data sweep failed", extra={"error": type(exc).__name__})
            return
        if swept:
            get_logger().info("tenant data swept", extra={"tenants": list(swept)})

    def _tenants(self, tenant_id: str | None) -> list[tuple[str, int]]:
        with self._sessions() as db:
            tenants = TenantRepository(db)
            chosen = [tenants.require(tenant_id)] if tenant_id is not None else tenants.list()
            return [(t.id, t.retention_days) for t in chosen]

    def _purge_tenant(
        self,
        tenant_id: str,
        cutoff: datetime,
        dry_run: bool,
        remaining_ms: RemainingTime | None,
        totals: _Totals,
    ) -> bool:
        """Batch after batch until the tenant has nothing expired; False if time ran out."""
        position: tuple[datetime, uuid.UUID] | None = None
        while True:
            if self._out_of_time(remaining_ms):
                get_logger().info(
                    "retention stopped before the deadline", extra={"tenant_id": tenant_id}
                )
                return False
            if dry_run:
                batch = self._count_batch(tenant_id, cutoff, position)
            else:
                batch = self._delete_batch(tenant_id, cutoff, position)
            totals.add(tenant_id, batch)
            if batch.sessions:
                get_logger().info(
                    "retention batch",
                    extra={
                        "tenant_id": tenant_id,
                        "dry_run": dry_run,
                        "sessions": batch.sessions,
                        "messages": batch.messages,
                        "checkpoints": batch.checkpoints,
                    },
                )
            if batch.last is None or batch.sessions < self._batch_size:
                return True
            position = batch.last

    def _delete_batch(
        self, tenant_id: str, cutoff: datetime, after: tuple[datetime, uuid.UUID] | None
    ) -> _Batch:
        with transaction(self._sessions) as db:
            expired = ChatSessionRepository(db).expired(
                tenant_id=tenant_id,
                older_than=cutoff,
                limit=self._batch_size,
                after=after,
                lock=True,
            )
            if not expired:
                return _EMPTY
            ids = [s.id for s in expired]
            threads = [memory_thread(s) for s in expired]
            last = _position(expired[-1])
            messages = MessageRepository(db).delete_in_sessions(
                tenant_id=tenant_id, session_ids=ids
            )
            if self._files is not None:
                self._files.delete_for_sessions(db, tenant_id=tenant_id, session_ids=ids)
            sessions = ChatSessionRepository(db).delete_many(tenant_id=tenant_id, session_ids=ids)
            # Last and before the commit: if the checkpoints cannot go, the whole batch rolls
            # back and the next run retries it (never sessions gone with their memory left).
            checkpoints = self._threads.delete_threads(threads)
        return _Batch(sessions=sessions, messages=messages, checkpoints=checkpoints, last=last)

    def _count_batch(
        self, tenant_id: str, cutoff: datetime, after: tuple[datetime, uuid.UUID] | None
    ) -> _Batch:
        # A plain read, closed with a rollback: a dry run writes nothing.
        with self._sessions() as db:
            expired = ChatSessionRepository(db).expired(
                tenant_id=tenant_id, older_than=cutoff, limit=self._batch_size, after=after
            )
            if not expired:
                return _EMPTY
            ids = [s.id for s in expired]
            messages = MessageRepository(db).count_in_sessions(tenant_id=tenant_id, session_ids=ids)
        checkpoints = self._threads.count_threads([memory_thread(s) for s in expired])
        return _Batch(
            sessions=len(expired),
            messages=messages,
            checkpoints=checkpoints,
            last=_position(expired[-1]),
        )

    def _out_of_time(self, remaining_ms: RemainingTime | None) -> bool:
        return remaining_ms is not None and remaining_ms() < self._safety_margin_ms


def _position(chat_session: ChatSession) -> tuple[datetime, uuid.UUID]:
    return chat_session.last_activity_at, chat_session.id
