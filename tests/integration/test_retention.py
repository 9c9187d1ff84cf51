"""Retention: conversations idle longer than their tenant's retention_days go, with their
messages and LangGraph checkpoints; batched, deadline-aware, idempotent; CLI and Lambda handler.

"Older than N days" means last_activity_at < now - N days: a conversation last active exactly N
days ago is kept. `now` is fixed through the service's clock so the boundary is exact.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from tests.support.lambda_events import REPO_ROOT, LambdaContext, load_handler

NOW = datetime(2025, 5, 2, 3, 0, 0, 123456, tzinfo=UTC)
CHECKPOINTS_PER_CONVERSATION = 2


@dataclass(frozen=True)
class Conversation:
    tenant_id: str
    user_id: str
    session_id: uuid.UUID
    thread_id: str


@pytest.fixture
def tenants(app_env: None) -> Callable[..., None]:
    """Create tenants: tenants(acme=90, globex=30) (None keeps the default retention)."""
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import TenantRepository

    def make(**retention_days: int | None) -> None:
        with transaction(get_sessionmaker()) as db:
            repository = TenantRepository(db)
            for tenant_id, days in retention_days.items():
                settings = {} if days is None else {"retention_days": days}
                repository.create(tenant_id=tenant_id, name=tenant_id.title(), **settings)

    return make


@pytest.fixture
def conversation(app_env: None) -> Callable[..., Conversation]:
    """A stored conversation (one turn) with checkpoints, last active `idle` before `now`."""
    from langgraph.checkpoint.base import empty_checkpoint

    from agenthub.agents.memory import thread_id
    from agenthub.composition import get_checkpointer, get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.db.models import ChatSession
    from agenthub.repositories import ChatSessionRepository, MessageRepository, NewMessage

    def make(
        tenant_id: str, *, idle: timedelta, user_id: str = "alice", now: datetime = NOW
    ) -> Conversation:
        with transaction(get_sessionmaker()) as db:
            chat = ChatSessionRepository(db).create(tenant_id=tenant_id, user_id=user_id)
            MessageRepository(db).append_turn(
                tenant_id=tenant_id,
                session_id=chat.id,
                user=NewMessage(role="user", content="Debt for MST 0123456789"),
                assistant=NewMessage(role="assistant", content="It is 269,750,000.", agent="debt"),
            )
            db.execute(
                update(ChatSession)
                .where(ChatSession.id == chat.id)
                .values(last_activity_at=now - idle)
            )
        thread = thread_id(tenant_id=tenant_id, user_id=user_id, session_id=str(chat.id))
        saver = get_checkpointer()
        config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        for step in range(CHECKPOINTS_PER_CONVERSATION):
            checkpoint = empty_checkpoint()
            checkpoint["channel_values"] = {"messages": [f"message {step}"]}
            saved = saver.put(config, checkpoint, {"step": step}, {"messages": str(step + 1)})
            saver.put_writes(saved, [("messages", f"write {step}")], task_id=f"task-{step}")
            config = saved
        return Conversation(tenant_id, user_id, chat.id, thread)

    return make


def _exists(conversation: Conversation) -> dict[str, int]:
    """What is left of a conversation: its session, messages and checkpoint rows per table."""
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import ChatSession, Message

    with get_sessionmaker()() as db:
        counts = {
            "sessions": db.scalar(
                select(func.count()).where(ChatSession.id == conversation.session_id)
            ),
            "messages": db.scalar(
                select(func.count()).where(Message.session_id == conversation.session_id)
            ),
        }
        for table in ("checkpoints", "checkpoint_writes", "checkpoint_blobs"):
            counts[table] = db.scalar(
                text(f"SELECT count(*) FROM {table} WHERE thread_id = :t"),
                {"t": conversation.thread_id},
            )
    return {name: int(value or 0) for name, value in counts.items()}


def _kept(conversation: Conversation) -> bool:
    left = _exists(conversation)
    return left["sessions"] == 1 and left["messages"] == 2 and left["checkpoints"] > 0


def _gone(conversation: Conversation) -> bool:
    return all(count == 0 for count in _exists(conversation).values())


def _service(**overrides: Any) -> Any:
    from agenthub.composition import get_sessionmaker, get_thread_store
    from agenthub.services.retention import RetentionService

    options: dict[str, Any] = {"clock": lambda: NOW, **overrides}
    return RetentionService(sessions=get_sessionmaker(), threads=get_thread_store(), **options)


def test_removes_exactly_the_conversations_older_than_retention_days(
    tenants: Callable[..., None], conversation: Callable[..., Conversation]
) -> None:
    """89 and exactly 90 days idle are kept, 90 days and a microsecond or 91 days are removed."""
    # GIVEN a tenant with the default retention (90 days)
    tenants(acme=None)
    day89 = conversation("acme", idle=timedelta(days=89))
    day90 = conversation("acme", idle=timedelta(days=90))
    just_over = conversation("acme", idle=timedelta(days=90, microseconds=1))
    day91 = conversation("acme", idle=timedelta(days=91))

    # WHEN retention runs at NOW
    report = _service().run()

    # THEN only the two older than 90 days are gone, with their messages and checkpoints
    assert _kept(day89) and _kept(day90)
    assert _gone(just_over) and _gone(day91)
    assert report.as_dict() == {
        "tenants": 1,
        "sessions": 2,
        "messages": 4,
        "checkpoints": 2 * CHECKPOINTS_PER_CONVERSATION,
        "finished": True,
        "dry_run": False,
    }


def test_dry_run_reports_what_would_go_and_changes_nothing(
    tenants: Callable[..., None], conversation: Callable[..., Conversation]
) -> None:
    tenants(acme=None)
    kept = conversation("acme", idle=timedelta(days=89))
    expired = [conversation("acme", idle=timedelta(days=d)) for d in (91, 120, 400)]
    before = [_exists(c) for c in [kept, *expired]]

    dry = _service(batch_size=2).run(dry_run=True)

    assert [_exists(c) for c in [kept, *expired]] == before
    assert (dry.sessions, dry.messages, dry.checkpoints, dry.tenants) == (3, 6, 6, 1)
    assert dry.dry_run and dry.finished
    # The real run then removes exactly what the dry run announced.
    real = _service(batch_size=2).run()
    assert (real.sessions, real.messages, real.checkpoints, real.tenants) == (3, 6, 6, 1)
    assert all(_gone(c) for c in expired) and _kept(kept)


def test_each_tenant_uses_its_own_retention_days(
    tenants: Callable[..., None], conversation: Callable[..., Conversation]
) -> None:
    # GIVEN the same idle time (45 days) in tenants keeping 90, 30 and 365 days
    tenants(acme=None, globex=30, initech=365)
    acme = conversation("acme", idle=timedelta(days=45))
    globex = conversation("globex", idle=timedelta(days=45))
    initech = conversation("initech", idle=timedelta(days=200))

    report = _service().run()

    assert _gone(globex)
    assert _kept(acme) and _kept(initech)
    assert (report.tenants, report.sessions) == (1, 1)


def test_tenant_option_limits_the_run_to_that_tenant(
    tenants: Callable[..., None], conversation: Callable[..., Conversation]
) -> None:
    from agenthub.errors import NotFoundError

    tenants(acme=None, globex=None)
    acme = conversation("acme", idle=timedelta(days=100))
    globex = conversation("globex", idle=timedelta(days=100))

    report = _service().run(tenant_id="globex")

    assert _gone(globex) and _kept(acme)
    assert report.sessions == 1
    with pytest.raises(NotFoundError, match="nope"):
        _service().run(tenant_id="nope")


def test_a_second_run_deletes_nothing(
    tenants: Callable[..., None], conversation: Callable[..., Conversation]
) -> None:
    tenants(acme=None)
    for days in (91, 95, 300):
        conversation("acme", idle=timedelta(days=days))
    conversation("acme", idle=timedelta(days=5))

    first = _service(batch_size=2).run()
    second = _service(batch_size=2).run()

    assert first.sessions == 3
    assert second.as_dict() == {
        "tenants": 0,
        "sessions": 0,
        "messages": 0,
        "checkpoints": 0,
        "finished": True,
        "dry_run": False,
    }


class _Countdown:
    """Remaining time that drops to `after` once `ample_checks` checks have passed."""

    def __init__(self, ample_checks: int, after: int = 1_000) -> None:
        self.checks = 0
        self._ample_checks = ample_checks
        self._after = after

    def __call__(self) -> int:
        self.checks += 1
        return 600_000 if self.checks <= self._ample_checks else self._after


def test_stops_before_the_deadline_and_the_next_run_finishes(
    tenants: Callable[..., None], conversation: Callable[..., Conversation]
) -> None:
    # GIVEN five expired conversations and batches of two
    tenants(acme=None)
    expired = [conversation("acme", idle=timedelta(days=100 + n)) for n in range(5)]
    service = _service(batch_size=2, safety_margin_ms=20_000)

    # WHEN the time left drops under the safety margin after the first batch
    first = service.run(remaining_ms=_Countdown(ample_checks=1))

    # THEN exactly one batch (the two oldest) went, and the run says it did not finish
    assert (first.sessions, first.messages, first.finished) == (2, 4, False)
    assert [_gone(c) for c in expired] == [False, False, False, True, True]

    # WHEN the next run has time
    second = service.run(remaining_ms=_Countdown(ample_checks=100))

    # THEN it removes the rest and finishes
    assert (second.sessions, second.finished) == (3, True)
    assert all(_gone(c) for c in expired)


def test_a_run_without_time_left_deletes_nothing(
    tenants: Callable[..., None], conversation: Callable[..., Conversation]
) -> None:
    tenants(acme=None)
    expired = conversation("acme", idle=timedelta(days=100))

    report = _service().run(remaining_ms=lambda: 5_000)

    assert (report.sessions, report.finished) == (0, False)
    assert _kept(expired)


class _BrokenThreads:
    def delete_threads(self, thread_ids: Sequence[str]) -> int:
        raise RuntimeError("checkpoint store down")

    def count_threads(self, thread_ids: Sequence[str]) -> int:
        raise RuntimeError("checkpoint store down")


def test_a_batch_whose_checkpoints_cannot_be_deleted_is_rolled_back(
    tenants: Callable[..., None], conversation: Callable[..., Conversation]
) -> None:
    """One transaction per batch: sessions and messages stay until their memory can go too."""
    from agenthub.composition import get_sessionmaker
    from agenthub.services.retention import RetentionService

    tenants(acme=None)
    expired = conversation("acme", idle=timedelta(days=100))
    broken = RetentionService(
        sessions=get_sessionmaker(), threads=_BrokenThreads(), clock=lambda: NOW
    )

    with pytest.raises(RuntimeError, match="checkpoint store down"):
        broken.run()

    assert _kept(expired)
    assert _service().run().sessions == 1
    assert _gone(expired)


def _load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((REPO_ROOT / "tests" / "events" / name).read_text())
    return event


@pytest.fixture
def retention_handler(app_env: None) -> Iterator[Any]:
    yield load_handler("retention")


def test_the_scheduled_lambda_purges_expired_conversations(
    tenants: Callable[..., None],
    conversation: Callable[..., Conversation],
    retention_handler: Any,
) -> None:
    # GIVEN conversations aged against the real clock (the handler uses it)
    tenants(acme=None)
    now = datetime.now(UTC)
    old = conversation("acme", idle=timedelta(days=91), now=now)
    recent = conversation("acme", idle=timedelta(days=3), now=now)
    event = _load_event("schedule_retention.json")

    # WHEN EventBridge invokes the function (its timeout is 300 s in template.yaml)
    result = retention_handler.handler(event, LambdaContext(timeout_s=300))

    # THEN the expired one is gone and the counts come back
    assert result == {
        "tenants": 1,
        "sessions": 1,
        "messages": 2,
        "checkpoints": CHECKPOINTS_PER_CONVERSATION,
        "finished": True,
        "dry_run": False,
    }
    assert _gone(old) and _kept(recent)


def test_the_lambda_stops_when_its_time_is_short(
    tenants: Callable[..., None],
    conversation: Callable[..., Conversation],
    retention_handler: Any,
) -> None:
    tenants(acme=None)
    old = conversation("acme", idle=timedelta(days=91), now=datetime.now(UTC))

    result = retention_handler.handler(
        _load_event("schedule_retention.json"), LambdaContext(timeout_s=5)
    )

    assert result["finished"] is False and result["sessions"] == 0
    assert _kept(old)


def test_cli_dry_run_prints_counts_and_changes_nothing_then_run_deletes(
    tenants: Callable[..., None],
    conversation: Callable[..., Conversation],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from agenthub.cli import main

    tenants(acme=None, globex=None)
    now = datetime.now(UTC)
    acme_old = conversation("acme", idle=timedelta(days=120), now=now)
    globex_old = conversation("globex", idle=timedelta(days=120), now=now)

    assert main(["retention", "run", "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == (
        "retention dry run, would delete: sessions=2 messages=4 checkpoints=4 tenants=2"
    )
    assert _kept(acme_old) and _kept(globex_old)

    assert main(["retention", "run", "--tenant", "acme"]) == 0
    assert capsys.readouterr().out.strip() == (
        "retention deleted: sessions=1 messages=2 checkpoints=2 tenants=1"
    )
    assert _gone(acme_old) and _kept(globex_old)


def test_cli_refuses_an_unknown_tenant(
    tenants: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    from agenthub.cli import main

    tenants(acme=None)

    assert main(["retention", "run", "--tenant", "nope"]) == 2
    assert "tenant 'nope' not found" in capsys.readouterr().err
