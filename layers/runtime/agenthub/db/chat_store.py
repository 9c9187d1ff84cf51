"""The chat turn's rows, in plain SQL through psycopg: one statement, one round trip each.

The chat path's writes: claim a session's turn, release it, and store a turn (the session row,
its two messages, the turn's attachments linked to the session). Each is one statement with
data-modifying CTEs, run on an autocommit connection of the container's psycopg pool (one round
trip, no BEGIN/COMMIT), and SQLAlchemy stays off the chat function's import path. A chat turn
stores its rows with its held checkpoint (`checkpoint`, agenthub.db.turn_saver): usually as rows
of the same statement (agenthub.db.checkpoint_rows), else in one transaction; one commit.

Rows, columns and semantics are those of the ORM repositories (`MessageRepository`,
`ChatSessionRepository`, `UploadRepository.link_to_session`), which stay for the sessions API,
retention and admin; tests/integration/test_chat_store.py compares the two.

The values the ORM fills in Python are set here the same way: message ids are uuid4 made here;
`created_at`, `updated_at` and `last_activity_at` are the transaction's `now()`; `updated_at`
also changes on every UPDATE of a session (the model's `onupdate`); JSON columns given None
hold JSON `null`, as the ORM writes them (its JSONB type does not turn None into SQL NULL).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from agenthub.db.checkpoint_rows import CHECKPOINT_CTES, CheckpointRows
from agenthub.errors import (
    AgentHubError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    ValidationFailedError,
)

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool


class TurnCheckpoint(Protocol):
    """A turn's held checkpoint (agenthub.db.turn_saver.HeldCheckpoint), stored with its rows."""

    def rows(self) -> CheckpointRows | None:
        """As rows of the turn's own statement; None: `write` it in the turn's transaction."""
        ...

    def write(self, conn: psycopg.Connection[Any]) -> None: ...


TITLE_MAX_CHARS = 80
USER, ASSISTANT = "user", "assistant"


@dataclass(frozen=True)
class NewMessage:
    """The fields of a message to store; the store assigns ids, seq and timestamps."""

    role: str  # "user" | "assistant" (agenthub.db.models.MessageRole is a str enum)
    content: str
    agent: str | None = None
    format: str | None = None
    renderer_hint: str | None = None
    data: dict[str, Any] | None = None
    tool_calls: list[Any] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal("0")
    latency_ms: int | None = None
    llm_model: str | None = None
    # Knowledge citations of an answer: [{document_id, title, snippet, score}].
    citations: list[Any] | None = None


@dataclass(frozen=True)
class StoredTurn:
    session_id: uuid.UUID
    user_message_id: uuid.UUID
    assistant_message_id: uuid.UUID
    # The assistant message's seq; the user message's is one less.
    seq: int
    # Attachments now linked to the session (uploads already linked to it are not counted).
    linked_uploads: int


def title_from(content: str) -> str:
    """A session title from the first user message: its first line, shortened."""
    lines = content.strip().splitlines()
    first_line = " ".join(lines[0].split()) if lines else ""
    if len(first_line) <= TITLE_MAX_CHARS:
        return first_line
    return first_line[: TITLE_MAX_CHARS - 1].rstrip() + "…"


# The turn's two messages, with their seq relative to the session's new message_count.
_MESSAGE_COLUMNS = (
    "id, tenant_id, session_id, seq, role, content, agent, format, renderer_hint, data, "
    "tool_calls, input_tokens, output_tokens, cost_usd, latency_ms, llm_model, citations"
)
_MESSAGE_ROW = (
    "(%({p}id)s::uuid, %({p}seq)s::integer, %({p}role)s::message_role, %({p}content)s::text, "
    "%({p}agent)s::varchar, %({p}format)s::varchar, %({p}renderer_hint)s::varchar, "
    "%({p}data)s::jsonb, %({p}tool_calls)s::jsonb, %({p}input_tokens)s::integer, "
    "%({p}output_tokens)s::integer, %({p}cost_usd)s::numeric, %({p}latency_ms)s::integer, "
    "%({p}llm_model)s::varchar, %({p}citations)s::jsonb)"
)
_TURN_MESSAGES = (
    "(VALUES " + _MESSAGE_ROW.format(p="u_") + ", " + _MESSAGE_ROW.format(p="a_") + ") "
    "AS m(id, seq, role, content, agent, format, renderer_hint, data, tool_calls, "
    "input_tokens, output_tokens, cost_usd, latency_ms, llm_model, citations)"
)
# The statements are put together from the constants here only; values are parameters.
_INSERT_MESSAGES = f"""
  INSERT INTO messages ({_MESSAGE_COLUMNS})
  SELECT m.id, s.tenant_id, s.id, s.message_count + m.seq, m.role, m.content, m.agent,
         m.format, m.renderer_hint, m.data, m.tool_calls, m.input_tokens, m.output_tokens,
         m.cost_usd, m.latency_ms, m.llm_model, m.citations
  FROM turn AS s CROSS JOIN {_TURN_MESSAGES}
  RETURNING seq
"""  # noqa: S608
# The uploads the turn sent, the caller's own and not yet in a conversation (as
# UploadRepository.link_to_session).
_LINK_UPLOADS = """
  UPDATE uploads AS up SET session_id = s.id
  FROM turn AS s
  WHERE up.tenant_id = %(tenant_id)s AND up.user_id = %(user_id)s
    AND up.id = ANY(%(upload_ids)s::uuid[]) AND up.session_id IS NULL
  RETURNING up.id
"""
_RESULT = """
SELECT s.message_count AS seq,
       (SELECT count(*) FROM new_messages) AS messages,
       (SELECT count(*) FROM linked) AS linked
FROM turn AS s
"""


def _turn_statement(turn: str, *, with_checkpoint: bool = False) -> str:
    """`turn` (the session row, RETURNING id, tenant_id, message_count), its two messages and
    its uploads; `with_checkpoint`: and the run's checkpoint (CHECKPOINT_CTES: written only
    with the session's row)."""
    checkpoint = CHECKPOINT_CTES if with_checkpoint else ""
    return f"""
WITH turn AS ({turn}
){checkpoint}, new_messages AS ({_INSERT_MESSAGES}
), linked AS ({_LINK_UPLOADS}
){_RESULT}"""


# A new session holding its first turn (MessageRepository.start_session + link_attachments).
_NEW_SESSION = """
  INSERT INTO sessions (id, tenant_id, user_id, title, message_count)
  VALUES (%(session_id)s, %(tenant_id)s, %(user_id)s, %(title)s, 2)
  RETURNING id, tenant_id, message_count"""
START_SESSION = _turn_statement(_NEW_SESSION)
START_SESSION_WITH_CHECKPOINT = _turn_statement(_NEW_SESSION, with_checkpoint=True)

# The session's next turn (MessageRepository.append_turn + link_attachments). The UPDATE takes
# the session's row lock and hands back the new counter, so concurrent turns get distinct seqs;
# it releases the turn's claim. No row: no such session of the tenant, and nothing is written.
_NEXT_TURN = """
  UPDATE sessions
  SET message_count = message_count + 2,
      last_activity_at = now(),
      updated_at = now(),
      turn_started_at = NULL,
      title = CASE WHEN title = '' THEN %(title)s ELSE title END
  WHERE tenant_id = %(tenant_id)s AND id = %(session_id)s
  RETURNING id, tenant_id, message_count"""
APPEND_TURN = _turn_statement(_NEXT_TURN)
APPEND_TURN_WITH_CHECKPOINT = _turn_statement(_NEXT_TURN, with_checkpoint=True)

# ChatSessionRepository.claim_turn in one statement. The claim's condition is on the row being
# updated, so a concurrent claim re-checks it after waiting for the row lock (only one wins).
CLAIM_TURN = """
WITH claimed AS (
  UPDATE sessions
  SET turn_started_at = now(), updated_at = now()
  WHERE tenant_id = %(tenant_id)s AND user_id = %(user_id)s AND id = %(session_id)s
    AND (turn_started_at IS NULL
         OR turn_started_at < now() - make_interval(secs => %(stale_after_s)s::float8))
  RETURNING id
)
SELECT EXISTS (SELECT 1 FROM claimed) AS claimed,
       EXISTS (SELECT 1 FROM sessions
               WHERE tenant_id = %(tenant_id)s AND user_id = %(user_id)s
                 AND id = %(session_id)s) AS found
"""

RELEASE_TURN = """
UPDATE sessions SET turn_started_at = NULL, updated_at = now()
WHERE tenant_id = %(tenant_id)s AND id = %(session_id)s
"""


class ChatStore:
    """The chat path's session and message writes on the container's psycopg pool."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool

    def start_session(
        self,
        *,
        tenant_id: str,
        user_id: str,
        session_id: uuid.UUID,
        user: NewMessage,
        assistant: NewMessage,
        upload_ids: Sequence[uuid.UUID] = (),
        checkpoint: TurnCheckpoint | None = None,
    ) -> StoredTurn:
        """A new session with its first turn (seq 1 and 2) and its attachments, or nothing
        (`checkpoint` included: it commits with the rows, or not at all)."""
        params = _turn_params(tenant_id, user_id, session_id, user, assistant, upload_ids)
        row = self._turn(
            (START_SESSION, START_SESSION_WITH_CHECKPOINT),
            params,
            what=f"session of tenant {tenant_id!r}",
            conflict=f"session {session_id} already exists",
            checkpoint=checkpoint,
        )
        assert row is not None  # an INSERT ... RETURNING either returns its row or raises
        return _stored(session_id, params, row)

    def append_turn(
        self,
        *,
        tenant_id: str,
        user_id: str,
        session_id: uuid.UUID,
        user: NewMessage,
        assistant: NewMessage,
        upload_ids: Sequence[uuid.UUID] = (),
        checkpoint: TurnCheckpoint | None = None,
    ) -> StoredTurn:
        """The session's next two messages, its counters, its claim released, its attachments;
        NotFoundError (and nothing written, `checkpoint` included) when the tenant has no such
        session."""
        what = f"session {session_id} of tenant {tenant_id!r}"
        params = _turn_params(tenant_id, user_id, session_id, user, assistant, upload_ids)
        row = self._turn(
            (APPEND_TURN, APPEND_TURN_WITH_CHECKPOINT),
            params,
            what=what,
            checkpoint=checkpoint,
            required=True,
        )
        assert row is not None  # required: no row raised NotFoundError
        return _stored(session_id, params, row)

    def claim_turn(
        self, *, tenant_id: str, user_id: str, session_id: uuid.UUID, stale_after_s: float
    ) -> bool | None:
        """Mark a turn of the session as being answered.

        None: no such session for this user of this tenant; False: another turn is being
        answered (and started less than `stale_after_s` ago); True: this turn may go ahead.
        """
        params = {
            "tenant_id": tenant_id,
            "user_id": user_id,
            "session_id": session_id,
            "stale_after_s": float(stale_after_s),
        }
        row = self._one(CLAIM_TURN, params, what=f"session {session_id}")
        assert row is not None
        if row["claimed"]:
            return True
        return False if row["found"] else None

    def release_turn(self, *, tenant_id: str, session_id: uuid.UUID) -> None:
        """The turn is over (answered or failed): the next message may go."""
        with self._pool.connection() as conn:
            conn.execute(RELEASE_TURN, {"tenant_id": tenant_id, "session_id": session_id})

    def _turn(
        self,
        statements: tuple[str, str],
        params: dict[str, Any],
        *,
        what: str,
        conflict: str | None = None,
        checkpoint: TurnCheckpoint | None = None,
        required: bool = False,
    ) -> dict[str, Any] | None:
        """A turn's statement (without, with the checkpoint's CTEs) and its checkpoint: as rows
        of the statement when they can be (one round trip, no BEGIN or COMMIT), else written
        by the saver in the statement's transaction."""
        rows = checkpoint.rows() if checkpoint is not None else None
        if rows is not None:
            sql, params = statements[1], {**params, **rows.params()}
            return self._one(sql, params, what=what, conflict=conflict, required=required)
        also_write = checkpoint.write if checkpoint is not None else None
        return self._one(
            statements[0],
            params,
            what=what,
            conflict=conflict,
            also_write=also_write,
            required=required,
        )

    def _one(
        self,
        sql: str,
        params: dict[str, Any],
        *,
        what: str,
        conflict: str | None = None,
        also_write: Callable[[psycopg.Connection[Any]], None] | None = None,
        required: bool = False,
    ) -> dict[str, Any] | None:
        """One statement on an autocommit connection: it commits, or changes nothing. With
        `also_write`, both run in one transaction (one commit); `required`: no row is
        NotFoundError, and nothing of either is kept."""
        try:
            with self._pool.connection() as conn:
                # Not pipelined: the saver's own (nested) pipeline syncs anyway, and psycopg's
                # pipeline bookkeeping cost more than the waits it saved (in a turn of
                # bench/chat_turn.py, about 9 ms pipelined against 6 ms as it is now).
                together = conn.transaction() if also_write else contextlib.nullcontext()
                with together, conn.cursor(row_factory=dict_row) as cursor:
                    if also_write is not None:
                        also_write(conn)
                    cursor.execute(sql, params)
                    row: dict[str, Any] | None = cursor.fetchone()
                    if row is None and required:
                        raise NotFoundError(f"{what} not found")
                    return row
        except psycopg.errors.IntegrityError as exc:
            raise _integrity_error(exc, what=what, conflict=conflict) from exc
        except psycopg.errors.DataError as exc:
            raise ValidationFailedError(
                f"{what}: a value has the wrong type or is out of range"
            ) from exc


def _turn_params(
    tenant_id: str,
    user_id: str,
    session_id: uuid.UUID,
    user: NewMessage,
    assistant: NewMessage,
    upload_ids: Sequence[uuid.UUID],
) -> dict[str, Any]:
    _expect_role(user, USER)
    _expect_role(assistant, ASSISTANT)
    return {
        "tenant_id": tenant_id,
        "user_id": user_id,
        "session_id": session_id,
        "title": title_from(user.content),
        "upload_ids": list(upload_ids),
        # seq relative to the session's new message_count: the user's, then the answer's.
        **_message_params("u_", user, seq=-1),
        **_message_params("a_", assistant, seq=0),
    }


def _message_params(prefix: str, message: NewMessage, *, seq: int) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "seq": seq,
        "role": str(message.role),
        "content": message.content,
        "agent": message.agent,
        "format": message.format,
        "renderer_hint": message.renderer_hint,
        "data": Jsonb(message.data),
        "tool_calls": Jsonb(list(message.tool_calls)),
        "input_tokens": message.input_tokens,
        "output_tokens": message.output_tokens,
        "cost_usd": Decimal(message.cost_usd),
        "latency_ms": message.latency_ms,
        "llm_model": message.llm_model,
        "citations": Jsonb(list(message.citations) if message.citations else None),
    }
    return {prefix + name: value for name, value in values.items()}


def _stored(session_id: uuid.UUID, params: dict[str, Any], row: dict[str, Any]) -> StoredTurn:
    return StoredTurn(
        session_id=session_id,
        user_message_id=params["u_id"],
        assistant_message_id=params["a_id"],
        seq=int(row["seq"]),
        linked_uploads=int(row["linked"]),
    )


def _expect_role(message: NewMessage, role: str) -> None:
    if str(message.role) != role:
        raise BadRequestError(f"a turn needs a {role} message here, not {message.role!r}")


def _integrity_error(
    exc: psycopg.errors.IntegrityError, *, what: str, conflict: str | None
) -> AgentHubError:
    """As agenthub.repositories.common.integrity_error, from the driver's error."""
    constraint = exc.diag.constraint_name or "a constraint"
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return ConflictError(conflict or f"{what} already exists")
    if isinstance(exc, psycopg.errors.ForeignKeyViolation):
        return NotFoundError(f"{what} refers to a row that does not exist ({constraint})")
    if isinstance(exc, psycopg.errors.NotNullViolation):
        column = exc.diag.column_name or "a required field"
        return ValidationFailedError(f"{what}: {column} is required")
    if isinstance(exc, psycopg.errors.CheckViolation):
        return ValidationFailedError(f"{what}: a value is not allowed ({constraint})")
    return ConflictError(f"{what} conflicts with stored data ({constraint})")
