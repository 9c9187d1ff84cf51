"""Chat attachments: upload URLs, direct uploads, and checking the files a message sends.

A file lives at `tenant/{tenant_id}/user/{user}/uploads/{upload_id}` and only its owner can
use it; another user's or tenant's upload id is simply not found. Its bytes must match the
declared type (magic bytes) and size before any tool reads it. Objects are tagged
`agenthub-upload=pending` until a message sends them (the bucket's lifecycle rule expires
pending objects: a backstop for rows that never got written), then `attached`; retention
deletes them with their conversation, or after a grace period when they were never sent.
No heavy imports here: the uploads function loads this module, and the chat function when a
message sends files (SQLAlchemy only inside the methods that touch rows).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

from agenthub.documents.sniff import ACCEPTED_TYPES, mismatch, normalise_type
from agenthub.domain import Attachment
from agenthub.errors import (
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationFailedError,
)
from agenthub.observability import get_logger
from agenthub.settings import UploadSettings
from agenthub.storage.objects import ObjectStore, tenant_key

if TYPE_CHECKING:
    # SQLAlchemy is imported where rows are read or written (the uploads and attachments
    # paths), never by a chat turn without attachments.
    from sqlalchemy.orm import Session, sessionmaker

    from agenthub.db.models import Upload

MAX_ATTACHMENTS = 5
UPLOAD_TAG = "agenthub-upload"
PENDING_TAGS = {UPLOAD_TAG: "pending"}
ATTACHED_TAGS = {UPLOAD_TAG: "attached"}
_SAFE_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_FILENAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class UploadTicket:
    upload_id: uuid.UUID
    put_url: str
    expires_at: datetime
    max_bytes: int
    # Headers the PUT must carry: they are part of the signature.
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredUpload:
    upload_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    status: str


def user_segment(user_id: str) -> str:
    """The user's key segment: the id itself when it is key-safe, else a stable digest."""
    if _SAFE_USER.fullmatch(user_id) and ".." not in user_id:
        return user_id
    return "h-" + hashlib.sha256(user_id.encode()).hexdigest()[:40]


def upload_key(tenant_id: str, user_id: str, upload_id: uuid.UUID) -> str:
    return tenant_key(tenant_id, "user", user_segment(user_id), "uploads", str(upload_id))


def clean_filename(filename: str) -> str:
    name = _FILENAME_UNSAFE.sub("_", filename).strip()
    if not name:
        raise ValidationFailedError(
            "filename must not be blank",
            details=[{"field": "filename", "message": "must not be blank"}],
        )
    return name[:255]


class UploadService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        settings: UploadSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._settings = settings
        self._clock = clock

    # ------------------------------------------------------------------ creating uploads

    def create(
        self, *, tenant_id: str, user_id: str, filename: str, content_type: str, size: int
    ) -> UploadTicket:
        """A presigned PUT for one file; the row is written first, so no object is ownerless."""
        from agenthub.db.engine import transaction
        from agenthub.repositories.uploads import UploadRepository

        name = clean_filename(filename)
        declared = self._accepted_type(content_type)
        self._check_size(size, self._settings.max_bytes)
        upload_id = uuid.uuid4()
        key = upload_key(tenant_id, user_id, upload_id)
        ttl = self._settings.url_ttl_s
        with transaction(self._sessions) as db:
            UploadRepository(db).add(
                tenant_id=tenant_id,
                user_id=user_id,
                upload_id=upload_id,
                object_key=key,
                filename=name,
                content_type=declared,
                declared_size=size,
                expires_at=self._clock() + timedelta(seconds=ttl),
            )
            # Inside the transaction: no URL, no row.
            presigned = self._store.presign_put(
                tenant_id=tenant_id,
                key=key,
                content_type=declared,
                size=size,
                expires_s=ttl,
                tags=PENDING_TAGS,
            )
        return UploadTicket(
            upload_id=upload_id,
            put_url=presigned.url,
            expires_at=presigned.expires_at,
            max_bytes=presigned.max_bytes,
            headers=presigned.headers,
        )

    def store_direct(
        self, *, tenant_id: str, user_id: str, filename: str, content_type: str, body: bytes
    ) -> StoredUpload:
        """A small file posted through the API: checked, stored, ready to send."""
        from agenthub.db.engine import transaction
        from agenthub.db.models import UploadStatus
        from agenthub.repositories.uploads import UploadRepository

        name = clean_filename(filename)
        declared = self._accepted_type(content_type)
        self._check_size(len(body), self._settings.direct_max_bytes)
        problem = mismatch(declared, body[:16])
        if problem is not None:
            raise ValidationFailedError(
                f"{name}: {problem}", details=[{"field": "file", "message": problem}]
            )
        upload_id = uuid.uuid4()
        key = upload_key(tenant_id, user_id, upload_id)
        self._store.put(
            tenant_id=tenant_id, key=key, body=body, content_type=declared, tags=PENDING_TAGS
        )
        try:
            with transaction(self._sessions) as db:
                UploadRepository(db).add(
                    tenant_id=tenant_id,
                    user_id=user_id,
                    upload_id=upload_id,
                    object_key=key,
                    filename=name,
                    content_type=declared,
                    declared_size=len(body),
                    expires_at=self._clock(),
                    status=UploadStatus.READY,
                )
        except Exception:
            # No row, no object (the lifecycle rule catches a failed delete).
            self._delete_quietly(tenant_id, key)
            raise
        return StoredUpload(
            upload_id=upload_id,
            filename=name,
            content_type=declared,
            size=len(body),
            status=str(UploadStatus.READY),
        )

    # ------------------------------------------------------------------ sending them in chat

    def resolve(
        self,
        *,
        tenant_id: str,
        user_id: str,
        upload_ids: Sequence[uuid.UUID],
        session_id: uuid.UUID | None,
    ) -> tuple[Attachment, ...]:
        """The attachments of a chat message, each the caller's own, stored and checked.

        Unknown or not the caller's: 404. Still without its file, expired, or not matching its
        declared type or size: 422 (a mismatching file is deleted and the upload rejected).
        Already sent in another conversation: 409.
        """
        from agenthub.db.models import UploadStatus
        from agenthub.repositories.uploads import UploadRepository

        ids = list(dict.fromkeys(upload_ids))
        if len(ids) > MAX_ATTACHMENTS:
            raise ValidationFailedError(
                f"at most {MAX_ATTACHMENTS} attachments per message",
                details=[{"field": "attachments", "message": f"at most {MAX_ATTACHMENTS}"}],
            )
        if not ids:
            return ()
        with self._sessions() as db:
            owned = UploadRepository(db).get_owned(
                tenant_id=tenant_id, user_id=user_id, upload_ids=ids
            )
            rows = [owned.get(upload_id) for upload_id in ids]
            db.expunge_all()
        attachments = []
        for position, (upload_id, row) in enumerate(zip(ids, rows, strict=True)):
            if row is None:
                raise NotFoundError(f"upload {upload_id} not found")
            where = f"attachments[{position}]"
            if row.session_id is not None and row.session_id != session_id:
                raise ConflictError(f"upload {upload_id} was sent in another conversation")
            if row.status == UploadStatus.REJECTED:
                self._refuse(where, upload_id, f"was rejected: {row.rejected_reason}")
            size = row.declared_size
            if row.status == UploadStatus.PENDING:
                size = self._check_arrived(tenant_id, row, where)
            if row.session_id is None:
                self._store.set_tags(tenant_id=tenant_id, key=row.object_key, tags=ATTACHED_TAGS)
            attachments.append(
                Attachment(
                    upload_id=str(row.id),
                    filename=row.filename,
                    content_type=row.content_type,
                    size=size,
                    object_key=row.object_key,
                )
            )
        return tuple(attachments)

    def _check_arrived(self, tenant_id: str, row: Upload, where: str) -> int:
        """A pending upload's file: there, of the declared size and type; then it is ready."""
        from agenthub.db.engine import transaction
        from agenthub.db.models import UploadStatus
        from agenthub.repositories.uploads import UploadRepository

        head = self._store.head(tenant_id=tenant_id, key=row.object_key)
        if head is None:
            if self._clock() >= row.expires_at:
                self._refuse(
                    where, row.id, "expired before its file arrived; request a new upload URL"
                )
            self._refuse(where, row.id, "has no file yet: PUT the file to its upload URL first")
        size, _ = head
        problem = None
        if size != row.declared_size:
            problem = f"the file has {size} bytes, not the declared {row.declared_size}"
        else:
            stored = self._store.get(
                tenant_id=tenant_id, key=row.object_key, max_bytes=row.declared_size
            )
            problem = mismatch(row.content_type, stored.body[:16])
        if problem is not None:
            self._reject(tenant_id, row, problem)
            self._refuse(where, row.id, f"was rejected: {problem}")
        with transaction(self._sessions) as db:
            locked = UploadRepository(db).get_owned(
                tenant_id=tenant_id, user_id=row.user_id, upload_ids=[row.id], lock=True
            )
            if row.id in locked:
                locked[row.id].status = str(UploadStatus.READY)
        return size

    def _reject(self, tenant_id: str, row: Upload, reason: str) -> None:
        from agenthub.db.engine import transaction
        from agenthub.db.models import UploadStatus
        from agenthub.repositories.uploads import UploadRepository

        self._delete_quietly(tenant_id, row.object_key)
        with transaction(self._sessions) as db:
            locked = UploadRepository(db).get_owned(
                tenant_id=tenant_id, user_id=row.user_id, upload_ids=[row.id], lock=True
            )
            if row.id in locked:
                locked[row.id].status = str(UploadStatus.REJECTED)
                locked[row.id].rejected_reason = reason[:300]
        get_logger().info(
            "upload rejected", extra={"tenant_id": tenant_id, "upload_id": str(row.id)}
        )

    @staticmethod
    def _refuse(where: str, upload_id: uuid.UUID, problem: str) -> NoReturn:
        message = f"upload {upload_id} {problem}"
        raise ValidationFailedError(message, details=[{"field": where, "message": message}])

    # ------------------------------------------------------------------ helpers

    def _accepted_type(self, content_type: str) -> str:
        declared = normalise_type(content_type)
        if declared not in ACCEPTED_TYPES:
            raise ValidationFailedError(
                f"content type {content_type!r} is not accepted; send one of "
                + ", ".join(ACCEPTED_TYPES),
                details=[{"field": "content_type", "message": "not an accepted type"}],
            )
        return declared

    @staticmethod
    def _check_size(size: int, limit: int) -> None:
        if size <= 0:
            raise ValidationFailedError(
                "the file is empty (0 bytes)",
                details=[{"field": "size", "message": "must be more than 0 bytes"}],
            )
        if size > limit:
            raise PayloadTooLargeError(
                f"the file has {size} bytes; at most {limit} are accepted",
                details=[{"field": "size", "message": f"at most {limit} bytes"}],
            )

    def _delete_quietly(self, tenant_id: str, key: str) -> None:
        try:
            self._store.delete(tenant_id=tenant_id, key=key)
        except Exception:
            get_logger().warning(
                "could not delete an upload's object", extra={"tenant_id": tenant_id}
            )


class UploadCleaner:
    """Retention's part for attachments: files go with their conversation, and uploads never
    sent (or whose conversation was deleted) go after the grace period. Objects are deleted
    inside the caller's transaction, last: if S3 fails, the rows stay and the next run retries."""

    def __init__(
        self,
        *,
        store: ObjectStore,
        sessions: sessionmaker[Session],
        unlinked_ttl_s: int,
        batch_size: int = 200,
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._unlinked_ttl_s = unlinked_ttl_s
        self._batch_size = batch_size

    def delete_for_sessions(
        self, db: Session, *, tenant_id: str, session_ids: Sequence[uuid.UUID]
    ) -> int:
        from agenthub.repositories.uploads import UploadRepository

        uploads = UploadRepository(db).in_sessions(tenant_id=tenant_id, session_ids=session_ids)
        return self._delete(db, tenant_id, uploads)

    def sweep_unlinked(self, *, tenant_id: str, now: datetime) -> int:
        from agenthub.db.engine import transaction
        from agenthub.repositories.uploads import UploadRepository

        cutoff = now - timedelta(seconds=self._unlinked_ttl_s)
        with transaction(self._sessions) as db:
            uploads = UploadRepository(db).unlinked_before(
                tenant_id=tenant_id, created_before=cutoff, limit=self._batch_size
            )
            return self._delete(db, tenant_id, uploads)

    def _delete(self, db: Session, tenant_id: str, uploads: Sequence[Upload]) -> int:
        from agenthub.db.models import UploadStatus
        from agenthub.repositories.uploads import UploadRepository

        if not uploads:
            return 0
        UploadRepository(db).delete_many(tenant_id=tenant_id, upload_ids=[u.id for u in uploads])
        for upload in uploads:
            if upload.status != UploadStatus.REJECTED:  # a rejected file is already gone
                self._store.delete(tenant_id=tenant_id, key=upload.object_key)
        return len(uploads)
