"""Chat sessions (tenant-owned): each user sees only their own, newest activity first."""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import DateTime, Uuid, delete, func, literal, or_, select, tuple_, update
from sqlalchemy.orm import Session

from agenthub.db.models import ChatSession
from agenthub.errors import BadRequestError
from agenthub.repositories.common import guarded_write

MAX_PAGE_SIZE = 100


class ChatSessionRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def create(
        self,
        *,
        tenant_id: str,
        user_id: str,
        title: str = "",
        session_id: uuid.UUID | None = None,
    ) -> ChatSession:
        """A new, empty session; `session_id` lets the caller fix the id in advance (the chat
        turn names its memory thread before the session is stored)."""
        chat_session = ChatSession(
            id=session_id or uuid.uuid4(), tenant_id=tenant_id, user_id=user_id, title=title
        )
        what = f"session of tenant {tenant_id!r}"
        with guarded_write(
            self.db, what=what, conflict=f"session {chat_session.id} already exists"
        ):
            self.db.add(chat_session)
        return chat_session

    def get(self, *, tenant_id: str, user_id: str, session_id: uuid.UUID) -> ChatSession | None:
        """The session if it belongs to this user of this tenant, else None."""
        statement = select(ChatSession).where(
            ChatSession.tenant_id == tenant_id,
            ChatSession.user_id == user_id,
            ChatSession.id == session_id,
        )
        return self.db.scalars(statement).one_or_none()

    def claim_turn(
        self, *, tenant_id: str, user_id: str, session_id: uuid.UUID, stale_after_s: float
    ) -> bool | None:
        """Mark a turn of the session as being answered, in one statement.

        None: no such session for this user of this tenant; False: another turn is being
        answered (and started less than `stale_after_s` ago); True: this turn may go ahead.
        """
        stale = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, stale_after_s)
        statement = (
            update(ChatSession)
            .where(
                ChatSession.tenant_id == tenant_id,
                ChatSession.user_id == user_id,
                ChatSession.id == session_id,
                or_(ChatSession.turn_started_at.is_(None), ChatSession.turn_started_at < stale),
            )
            .values(turn_started_at=func.now())
            .returning(ChatSession.id)
            .execution_options(synchronize_session=False)
        )
        if self.db.execute(statement).scalar_one_or_none() is not None:
            return True
        return (
            False if self.get(tenant_id=tenant_id, user_id=user_id, session_id=session_id) else None
        )

    def release_turn(self, *, tenant_id: str, session_id: uuid.UUID) -> None:
        """The turn is over (answered or failed): the next message may go."""
        self.db.execute(
            update(ChatSession)
            .where(ChatSession.tenant_id == tenant_id, ChatSession.id == session_id)
            .values(turn_started_at=None)
            .execution_options(synchronize_session=False)
        )

    def list(
        self, *, tenant_id: str, user_id: str, limit: int = 20, cursor: str | None = None
    ) -> tuple[builtins.list[ChatSession], str | None]:
        """One page of the user's sessions, most recent activity first, and the next cursor.

        Keyset pagination on (last_activity_at, id): stable when timestamps are equal and when
        sessions are added meanwhile. The cursor is opaque to clients.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadRequestError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        statement = select(ChatSession).where(
            ChatSession.tenant_id == tenant_id, ChatSession.user_id == user_id
        )
        if cursor is not None:
            activity, session_id = decode_cursor(cursor)
            statement = statement.where(
                tuple_(ChatSession.last_activity_at, ChatSession.id)
                < tuple_(literal(activity, DateTime(timezone=True)), literal(session_id, Uuid()))
            )
        statement = statement.order_by(
            ChatSession.last_activity_at.desc(), ChatSession.id.desc()
        ).limit(limit + 1)
        rows = builtins.list(self.db.scalars(statement))
        page = rows[:limit]
        next_cursor = encode_cursor(page[-1]) if len(rows) > limit else None
        return page, next_cursor

    def delete(self, *, tenant_id: str, user_id: str, session_id: uuid.UUID) -> bool:
        """Delete the session and its messages; False when this user has no such session."""
        statement = delete(ChatSession).where(
            ChatSession.tenant_id == tenant_id,
            ChatSession.user_id == user_id,
            ChatSession.id == session_id,
        )
        result = self.db.execute(statement, execution_options={"synchronize_session": "fetch"})
        return bool(getattr(result, "rowcount", 0))

    def expired(
        self,
        *,
        tenant_id: str,
        older_than: datetime,
        limit: int = 500,
        after: tuple[datetime, uuid.UUID] | None = None,
        lock: bool = False,
    ) -> builtins.list[ChatSession]:
        """The tenant's sessions idle since before `older_than`, oldest first (for retention).

        `after` continues from the (last_activity_at, id) of a previous page. `lock` takes the
        rows for deletion (FOR UPDATE SKIP LOCKED): a turn writing to one of them meanwhile
        waits for the deletion, and rows a turn holds right now are left for the next run.
        """
        statement = select(ChatSession).where(
            ChatSession.tenant_id == tenant_id, ChatSession.last_activity_at < older_than
        )
        if after is not None:
            activity, session_id = after
            statement = statement.where(
                tuple_(ChatSession.last_activity_at, ChatSession.id)
                > tuple_(literal(activity, DateTime(timezone=True)), literal(session_id, Uuid()))
            )
        statement = statement.order_by(ChatSession.last_activity_at, ChatSession.id).limit(limit)
        if lock:
            statement = statement.with_for_update(skip_locked=True)
        return builtins.list(self.db.scalars(statement))

    def delete_many(self, *, tenant_id: str, session_ids: Sequence[uuid.UUID]) -> int:
        """Delete these sessions of the tenant (their messages go by cascade); returns the count."""
        if not session_ids:
            return 0
        statement = delete(ChatSession).where(
            ChatSession.tenant_id == tenant_id, ChatSession.id.in_(builtins.list(session_ids))
        )
        result = self.db.execute(statement, execution_options={"synchronize_session": False})
        return int(getattr(result, "rowcount", 0))


def encode_cursor(chat_session: ChatSession) -> str:
    position = {"a": chat_session.last_activity_at.isoformat(), "i": str(chat_session.id)}
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
        activity = datetime.fromisoformat(position["a"])
        session_id = uuid.UUID(position["i"])
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        # AttributeError: a forged cursor whose fields are numbers or lists, not strings.
        raise BadRequestError("the pagination cursor is not valid") from None
    if activity.tzinfo is None:
        raise BadRequestError("the pagination cursor is not valid")
    return activity, session_id
