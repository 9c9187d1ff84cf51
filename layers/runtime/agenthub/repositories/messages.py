"""Messages of a chat session (tenant-owned), stored a whole turn at a time in `seq` order."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

# NewMessage and title_from live with the chat path's store (no SQLAlchemy there).
from agenthub.db.chat_store import NewMessage as NewMessage
from agenthub.db.chat_store import title_from as title_from
from agenthub.db.models import ChatSession, Message, MessageRole
from agenthub.errors import BadRequestError, NotFoundError
from agenthub.repositories.common import enum_value, guarded_write

MAX_PAGE_SIZE = 500


class MessageRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def append_turn(
        self, *, tenant_id: str, session_id: uuid.UUID, user: NewMessage, assistant: NewMessage
    ) -> tuple[Message, Message]:
        """Store a user message and its answer as the session's next two messages.

        Both rows and the session's counters change in one savepoint: never half a turn.
        """
        what = f"session {session_id} of tenant {tenant_id!r}"
        _expect_role(user, MessageRole.USER)
        _expect_role(assistant, MessageRole.ASSISTANT)
        with guarded_write(self.db, what=what):
            # The UPDATE takes the session's row lock (as SELECT ... FOR UPDATE would) and hands
            # back the new counter in the same round trip, so concurrent turns get distinct seqs.
            statement = (
                update(ChatSession)
                .where(ChatSession.tenant_id == tenant_id, ChatSession.id == session_id)
                .values(
                    message_count=ChatSession.message_count + 2,
                    last_activity_at=func.now(),
                    turn_started_at=None,  # this turn is answered: the next may go
                    title=case(
                        (ChatSession.title == "", title_from(user.content)),
                        else_=ChatSession.title,
                    ),
                )
                .returning(ChatSession.message_count)
            )
            count = self.db.execute(
                statement, execution_options={"synchronize_session": "fetch"}
            ).scalar_one_or_none()
            if count is None:
                raise NotFoundError(f"{what} not found")
            user_row = _row(tenant_id, session_id, seq=count - 1, message=user)
            assistant_row = _row(tenant_id, session_id, seq=count, message=assistant)
            self.db.add_all([user_row, assistant_row])
        return user_row, assistant_row

    def start_session(
        self,
        *,
        tenant_id: str,
        user_id: str,
        session_id: uuid.UUID,
        user: NewMessage,
        assistant: NewMessage,
    ) -> tuple[ChatSession, Message, Message]:
        """A new session holding its first turn, written in one go.

        The chat path writes its turns with `agenthub.db.chat_store.ChatStore` (plain SQL, one
        round trip); tests check that both write the same rows.

        Nothing can race for a session that does not exist yet, so no lock and no counter read:
        one INSERT for the session and one (batched) for both messages.
        """
        _expect_role(user, MessageRole.USER)
        _expect_role(assistant, MessageRole.ASSISTANT)
        chat_session = ChatSession(
            id=session_id,
            tenant_id=tenant_id,
            user_id=user_id,
            title=title_from(user.content),
            message_count=2,
        )
        user_row = _row(tenant_id, session_id, seq=1, message=user)
        assistant_row = _row(tenant_id, session_id, seq=2, message=assistant)
        with guarded_write(
            self.db,
            what=f"session of tenant {tenant_id!r}",
            conflict=f"session {session_id} already exists",
        ):
            self.db.add(chat_session)
            self.db.flush()  # the session row first: the messages reference it
            self.db.add_all([user_row, assistant_row])
        return chat_session, user_row, assistant_row

    def list(
        self,
        *,
        tenant_id: str,
        session_id: uuid.UUID,
        limit: int = 100,
        after_seq: int | None = None,
    ) -> builtins.list[Message]:
        """The session's messages in conversation order, from just after `after_seq`."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadRequestError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        statement = select(Message).where(
            Message.tenant_id == tenant_id, Message.session_id == session_id
        )
        if after_seq is not None:
            statement = statement.where(Message.seq > after_seq)
        statement = statement.order_by(Message.seq).limit(limit)
        return builtins.list(self.db.scalars(statement))

    def count_in_sessions(self, *, tenant_id: str, session_ids: Sequence[uuid.UUID]) -> int:
        """How many messages these sessions of the tenant hold."""
        if not session_ids:
            return 0
        statement = select(func.count()).where(
            Message.tenant_id == tenant_id, Message.session_id.in_(builtins.list(session_ids))
        )
        return int(self.db.scalar(statement) or 0)

    def delete_in_sessions(self, *, tenant_id: str, session_ids: Sequence[uuid.UUID]) -> int:
        """Delete every message of these sessions of the tenant; returns how many went."""
        if not session_ids:
            return 0
        statement = delete(Message).where(
            Message.tenant_id == tenant_id, Message.session_id.in_(builtins.list(session_ids))
        )
        result = self.db.execute(statement, execution_options={"synchronize_session": False})
        return int(getattr(result, "rowcount", 0))


def _expect_role(message: NewMessage, role: MessageRole) -> None:
    if enum_value(MessageRole, message.role, field="role") is not role:
        raise BadRequestError(f"a turn needs a {role.value} message here, not {message.role!r}")


def _row(tenant_id: str, session_id: uuid.UUID, *, seq: int, message: NewMessage) -> Message:
    return Message(
        tenant_id=tenant_id,
        session_id=session_id,
        seq=seq,
        role=enum_value(MessageRole, message.role, field="role"),
        content=message.content,
        agent=message.agent,
        format=message.format,
        renderer_hint=message.renderer_hint,
        data=message.data,
        tool_calls=builtins.list(message.tool_calls),
        input_tokens=message.input_tokens,
        output_tokens=message.output_tokens,
        cost_usd=Decimal(message.cost_usd),
        latency_ms=message.latency_ms,
        llm_model=message.llm_model,
        citations=builtins.list(message.citations) if message.citations else None,
    )
