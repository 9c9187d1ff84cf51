"""How the files a message sends appear in its turn: a line the models read with the message,
and what the stored user message records. (Checking and resolving them is services.uploads,
which a turn without files never imports.)"""

from __future__ import annotations

from collections.abc import Sequence

from agenthub.domain import Attachment


def attachments_data(attachments: Sequence[Attachment]) -> dict[str, object] | None:
    """What the stored user message records (and the sessions API shows)."""
    if not attachments:
        return None
    return {
        "attachments": [
            {
                "upload_id": a.upload_id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
            }
            for a in attachments
        ]
    }


def attachment_note(attachments: Sequence[Attachment]) -> str:
    """A line the models see with the message, so they know files came with it (the files
    themselves reach tools through the run's context, never as model arguments)."""
    if not attachments:
        return ""
    listed = ", ".join(f"{a.filename} ({a.content_type})" for a in attachments)
    return f"\n\n[attached document: {listed}]"
