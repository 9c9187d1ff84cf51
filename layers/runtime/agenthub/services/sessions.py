"""A user's own conversations: list them, read one back, delete one with its memory.

Every operation is scoped to (tenant, user): another user's or another tenant's session is
"not found", never "forbidden", so that callers cannot learn which session ids exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from agenthub.db.engine import transaction
from agenthub.db.models import ChatSession, Message
from agenthub.errors import NotFoundError
from agenthub.observability import get_logger
from agenthub.repositories import ChatSessionRepository, MessageRepository


class ThreadStore(Protocol):
    """Whole-thread housekeeping on the LangGraph checkpointer (see agenthub.db.checkpoints)."""

    def delete_threads(self, thread_ids: Sequence[str]) -> int:
        """Remove every checkpoint of these threads; returns the checkpoints removed."""
        ...

    def count_threads(self, thread_ids: Sequence[str]) -> int:
        """How many checkpoints these threads hold."""
        ...


@dataclass(frozen=True)
class SessionPage:
    sessions: list[ChatSession]
    next_cursor: str | None


@dataclass(frozen=True)
class SessionTranscript:
    session: ChatSession
    messages: list[Message]
    # The `after` of the next page of messages; None on the last page.
    next_after: int | None


def memory_thread(chat_session: ChatSession) -> str:
    """The checkpointer thread that holds this session's conversation memory."""
    # Imported here: agents.memory pulls in langchain_core, which listing sessions never needs.
    from agenthub.agents.memory import thread_id

    return thread_id(
        tenant_id=chat_session.tenant_id,
        user_id=chat_session.user_id,
        session_id=str(chat_session.id),
    )


class SessionService:
    def __init__(self, *, sessions: sessionmaker[Session], threads: ThreadStore) -> None:
        self._sessions = sessions
        self._threads = threads

    def list_sessions(
        self, *, tenant_id: str, user_id: str, limit: int, cursor: str | None = None
    ) -> SessionPage:
        """One page of the user's sessions, most recent activity first."""
        with self._sessions() as db:
            page, next_cursor = ChatSessionRepository(db).list(
                tenant_id=tenant_id, user_id=user_id, limit=limit, cursor=cursor
            )
        return SessionPage(sessions=page, next_cursor=next_cursor)

    def get_transcript(
        self,
        *,
        tenant_id: str,
        user_id: str,
        session_id: uuid.UUID,
        limit: int,
        after: int | None = None,
    ) -> SessionTranscript:
        """The session and one page of its messages in conversation order (by seq)."""
        with self._sessions() as db:
            chat_session = self._require(db, tenant_id, user_id, session_id)
            # One row more than asked tells whether another page follows.
            rows = MessageRepository(db).list(
                tenant_id=tenant_id, session_id=session_id, limit=limit + 1, after_seq=after
            )
        page = rows[:limit]
        next_after = page[-1].seq if len(rows) > limit else None
        return SessionTranscript(session=chat_session, messages=page, next_after=next_after)

    def delete_session(self, *, tenant_id: str, user_id: str, session_id: uuid.UUID) -> None:
        """Delete the session, its messages and its checkpoints, or raise NotFoundError."""
        with transaction(self._sessions) as db:
            chat_session = self._require(db, tenant_id, user_id, session_id)
            thread = memory_thread(chat_session)
            deleted = ChatSessionRepository(db).delete(
                tenant_id=tenant_id, user_id=user_id, session_id=session_id
            )
            if not deleted:  # a concurrent delete got there first
                raise NotFoundError("session not found")
            # Still inside the transaction: if the checkpoints cannot go, the session stays and
            # the client can retry; never a deleted session whose memory lingers unreachable.
            checkpoints = self._threads.delete_threads([thread])
        get_logger().info(
            "session deleted",
            extra={
                "tenant_id": tenant_id,
                "session_id": str(session_id),
                "checkpoints": checkpoints,
            },
        )

    @staticmethod
    def _require(db: Session, tenant_id: str, user_id: str, session_id: uuid.UUID) -> ChatSession:
        chat_session = ChatSessionRepository(db).get(
            tenant_id=tenant_id, user_id=user_id, session_id=session_id
        )
        if chat_session is None:
            raise NotFoundError("session not found")
        return chat_session
