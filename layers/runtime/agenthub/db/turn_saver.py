"""The checkpointer of the chat function: LangGraph's PostgresSaver, able to hold back a turn's
checkpoint until the turn's rows are stored, so that both commit together.

A turn runs with `durability="exit"`: its graph saves one checkpoint, at the end of the run. By
itself that save is a commit of its own, and the turn's session and message rows another one
right after it (agenthub.db.chat_store): two commits, each waiting for the WAL to reach the
disk. Held, the checkpoint is written with the turn's rows: one commit per turn, and a turn is
either wholly remembered (checkpoint and messages) or not at all. Usually as rows of the turn's
own statement (`HeldCheckpoint.rows`, agenthub.db.checkpoint_rows); otherwise by
`HeldCheckpoint.write`, the saver's own `put`/`put_writes` on the chat store's connection,
inside the transaction that stores the turn's rows. Either way the rows are the ones the saver
would have written itself; only where and when changes. A run the chat service does not hold
(tests, other callers) writes through at once, as PostgresSaver does.

A turn that starts a session (`hold(marker, new_thread=True)`) has no checkpoint to read: its
thread id holds a session id made for it a moment ago. Its run's `get_tuple` answers "none"
without asking PostgreSQL, one query fewer on every conversation's first message.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.serde.base import SerializerProtocol
from psycopg import Connection
from psycopg_pool import ConnectionPool

from agenthub.db.checkpoint_rows import CheckpointRows, checkpoint_rows
from agenthub.db.checkpoints import TURN_KEY


@dataclass
class HeldCheckpoint:
    """What one turn's run asked the saver to write, in order, not yet written."""

    serde: SerializerProtocol
    # The turn starts its thread: nothing of it is stored yet (see the module docstring).
    new_thread: bool = False
    _puts: list[tuple[RunnableConfig, Checkpoint, CheckpointMetadata, ChannelVersions]] = field(
        default_factory=list
    )
    _writes: list[tuple[RunnableConfig, Sequence[tuple[str, Any]], str, str]] = field(
        default_factory=list
    )

    def __bool__(self) -> bool:
        return bool(self._puts or self._writes)

    def rows(self) -> CheckpointRows | None:
        """The common case (one checkpoint, no pending writes) as rows for the turn's own
        statement (agenthub.db.checkpoint_rows); None: `write` it instead."""
        if len(self._puts) != 1 or self._writes:
            return None
        return checkpoint_rows(self.serde, *self._puts[0])

    def write(self, conn: Connection[Any]) -> None:
        """Write it on `conn`, in the caller's transaction, with the saver's own statements."""
        saver = PostgresSaver(conn, serde=self.serde)
        for put in self._puts:
            saver.put(*put)
        for writes in self._writes:
            saver.put_writes(*writes)


class TurnSaver(PostgresSaver):
    """PostgresSaver on the container's pool; `hold(marker)` keeps the checkpoint of the turn
    tagged with `marker` (agenthub.db.checkpoints.turn_metadata) for the chat store."""

    def __init__(self, pool: ConnectionPool[Any], *, serde: SerializerProtocol) -> None:
        super().__init__(pool, serde=serde)
        # PostgresSaver serialises all its calls on one lock, which one shared connection
        # needs; on a pool each call borrows a connection of its own (the local gateway's
        # threads, and load tests, run turns of one container side by side).
        self.lock = contextlib.nullcontext()  # type: ignore[assignment]
        self._held: dict[str, HeldCheckpoint] = {}
        self._held_lock = threading.Lock()

    @contextlib.contextmanager
    def hold(self, marker: str, *, new_thread: bool = False) -> Iterator[HeldCheckpoint]:
        """Hold back what the turn tagged with `marker` saves, until the block ends (whatever
        was not written by then is dropped: the turn failed, and is not remembered).
        `new_thread`: the turn's thread is new, so there is no checkpoint to read."""
        held = HeldCheckpoint(self.serde, new_thread=new_thread)
        with self._held_lock:
            self._held[marker] = held
        try:
            yield held
        finally:
            with self._held_lock:
                self._held.pop(marker, None)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        held = self._held_for(config)
        if held is not None and held.new_thread:
            return None  # a thread this very turn started: nothing is stored for it yet
        return super().get_tuple(config)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        held = self._held_for(config)
        if held is None:
            return super().put(config, checkpoint, metadata, new_versions)
        held._puts.append((config, checkpoint, metadata, new_versions))
        # What PostgresSaver.put returns: the config of the checkpoint just saved.
        return {
            "configurable": {
                "thread_id": config["configurable"]["thread_id"],
                "checkpoint_ns": config["configurable"].get("checkpoint_ns", ""),
                "checkpoint_id": checkpoint["id"],
            }
        }

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        held = self._held_for(config)
        if held is None:
            super().put_writes(config, writes, task_id, task_path)
        else:
            held._writes.append((config, list(writes), task_id, task_path))

    def _held_for(self, config: RunnableConfig) -> HeldCheckpoint | None:
        # The run's metadata rides in the config (the saver copies it into the checkpoint's).
        metadata = config.get("metadata")
        if not self._held or not isinstance(metadata, dict):
            return None
        return self._held.get(str(metadata.get(TURN_KEY) or ""))
