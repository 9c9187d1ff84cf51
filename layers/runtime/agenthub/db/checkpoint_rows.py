"""A turn's checkpoint as rows of the turn's own statement (agenthub.db.chat_store).

`PostgresSaver.put` writes a checkpoint as one row of `checkpoints` and one row of
`checkpoint_blobs` per channel whose value is not a primitive. Written by the saver inside the
turn's transaction, that is a BEGIN, the saver's round trip, the turn's statement and a COMMIT.
Here the same rows are values of the turn's statement, written by two more of its data-modifying
CTEs: one round trip, no BEGIN or COMMIT, and, since they select from the turn's row, nothing
of the checkpoint when the turn's row is refused.

The values are what `put` makes of the checkpoint (its serializer, its split between inline
values and blobs, its metadata); tests/integration/test_turn_saver.py checks that these rows are
the rows `PostgresSaver.put` writes for the same checkpoint, so a saver upgrade that changes them
fails there first. What this cannot express (delta channels) is left to the saver's own `put`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    get_serializable_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from psycopg.types.json import Jsonb

# Two CTEs for a statement whose first CTE is `turn`: the checkpoint's blobs and its row, with
# PostgresSaver's own conflict rules (UPSERT_CHECKPOINT_BLOBS_SQL, UPSERT_CHECKPOINTS_SQL).
CHECKPOINT_CTES = """, checkpoint_blobs_written AS (
  INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
  SELECT %(ck_thread_id)s, %(ck_ns)s, b.channel, b.version, b.type, b.blob
  FROM turn CROSS JOIN unnest(%(ck_channels)s::text[], %(ck_versions)s::text[],
                              %(ck_types)s::text[], %(ck_blobs)s::bytea[])
       AS b(channel, version, type, blob)
  ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
), checkpoint_written AS (
  INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,
                           checkpoint, metadata)
  SELECT %(ck_thread_id)s, %(ck_ns)s, %(ck_id)s, %(ck_parent_id)s, %(ck_checkpoint)s,
         %(ck_metadata)s
  FROM turn
  ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id)
  DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata
)"""


# Channel values PostgresSaver keeps in the checkpoint's own row.
_PRIMITIVES = (str, int, float, bool)


@dataclass(frozen=True)
class BlobRow:
    channel: str
    version: str
    type: str
    blob: bytes | None


@dataclass(frozen=True)
class CheckpointRows:
    """One checkpoint, as `PostgresSaver.put` would write it."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    parent_checkpoint_id: str | None
    checkpoint: dict[str, Any]  # without the values that went to blobs
    metadata: dict[str, Any]
    blobs: tuple[BlobRow, ...]

    def params(self) -> dict[str, Any]:
        """The parameters of CHECKPOINT_CTES."""
        return {
            "ck_thread_id": self.thread_id,
            "ck_ns": self.checkpoint_ns,
            "ck_id": self.checkpoint_id,
            "ck_parent_id": self.parent_checkpoint_id,
            "ck_checkpoint": Jsonb(self.checkpoint),
            "ck_metadata": Jsonb(self.metadata),
            "ck_channels": [b.channel for b in self.blobs],
            "ck_versions": [b.version for b in self.blobs],
            "ck_types": [b.type for b in self.blobs],
            "ck_blobs": [b.blob for b in self.blobs],
        }


def checkpoint_rows(
    serde: SerializerProtocol,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    new_versions: ChannelVersions,
) -> CheckpointRows | None:
    """The rows of `PostgresSaver.put(config, checkpoint, metadata, new_versions)`; None when
    the checkpoint has delta channels (the saver's `put` writes those itself)."""
    values = checkpoint["channel_values"]
    if any(isinstance(value, _DeltaSnapshot) for value in values.values()):
        return None
    configurable = config["configurable"]
    # Primitives stay in the checkpoint's row; everything else is a blob per channel version.
    inline = {
        k: v for k, v in values.items() if v is None or isinstance(v, str | int | float | bool)
    }
    blob_values = {k: v for k, v in values.items() if k not in inline}
    blobs = tuple(
        BlobRow(k, str(version), *serde.dumps_typed(blob_values[k]))
        for k, version in new_versions.items()
        if k in blob_values
    )
    return CheckpointRows(
        thread_id=configurable["thread_id"],
        checkpoint_ns=configurable["checkpoint_ns"],
        checkpoint_id=checkpoint["id"],
        parent_checkpoint_id=configurable.get("checkpoint_id"),
        checkpoint={**checkpoint, "channel_values": inline},
        metadata=dict(get_serializable_checkpoint_metadata(config, metadata)),
        blobs=blobs,
    )
