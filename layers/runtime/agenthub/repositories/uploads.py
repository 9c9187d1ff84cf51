"""Uploads (chat attachments): each row is one file of one user of one tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from agenthub.db.models import Upload, UploadStatus


class UploadRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(
        self,
        *,
        tenant_id: str,
        user_id: str,
        upload_id: uuid.UUID,
        object_key: str,
        filename: str,
        content_type: str,
        declared_size: int,
        expires_at: datetime,
        status: UploadStatus = UploadStatus.PENDING,
    ) -> Upload:
        upload = Upload(
            id=upload_id,
            tenant_id=tenant_id,
            user_id=user_id,
            object_key=object_key,
            filename=filename,
            content_type=content_type,
            declared_size=declared_size,
            expires_at=expires_at,
            status=str(status),
        )
        self.db.add(upload)
        self.db.flush()
        return upload

    def get_owned(
        self, *, tenant_id: str, user_id: str, upload_ids: Sequence[uuid.UUID], lock: bool = False
    ) -> dict[uuid.UUID, Upload]:
        """The uploads among `upload_ids` that belong to this user of this tenant."""
        if not upload_ids:
            return {}
        statement = select(Upload).where(
            Upload.tenant_id == tenant_id, Upload.user_id == user_id, Upload.id.in_(upload_ids)
        )
        if lock:
            statement = statement.with_for_update()
        return {u.id: u for u in self.db.scalars(statement)}

    def link_to_session(
        self,
        *,
        tenant_id: str,
        user_id: str,
        upload_ids: Sequence[uuid.UUID],
        session_id: uuid.UUID,
    ) -> int:
        """Attach ready uploads to the conversation they were sent in (retention follows it)."""
        if not upload_ids:
            return 0
        result = self.db.execute(
            update(Upload)
            .where(
                Upload.tenant_id == tenant_id,
                Upload.user_id == user_id,
                Upload.id.in_(upload_ids),
                Upload.session_id.is_(None),
            )
            .values(session_id=session_id)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def in_sessions(self, *, tenant_id: str, session_ids: Sequence[uuid.UUID]) -> list[Upload]:
        if not session_ids:
            return []
        statement = select(Upload).where(
            Upload.tenant_id == tenant_id, Upload.session_id.in_(session_ids)
        )
        return list(self.db.scalars(statement))

    def unlinked_before(
        self, *, tenant_id: str, created_before: datetime, limit: int
    ) -> list[Upload]:
        """Uploads never sent (or whose conversation was deleted), older than the grace period."""
        statement = (
            select(Upload)
            .where(
                Upload.tenant_id == tenant_id,
                Upload.session_id.is_(None),
                Upload.created_at < created_before,
            )
            .order_by(Upload.created_at, Upload.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.db.scalars(statement))

    def delete_many(self, *, tenant_id: str, upload_ids: Sequence[uuid.UUID]) -> int:
        if not upload_ids:
            return 0
        result = self.db.execute(
            delete(Upload)
            .where(Upload.tenant_id == tenant_id, Upload.id.in_(upload_ids))
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
