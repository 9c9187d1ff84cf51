"""The uploads function's app: files a user sends with chat messages.

    POST /api/{tenant_id}/uploads          {filename, content_type, size} -> a presigned PUT
    POST /api/{tenant_id}/uploads/direct   multipart `file` (small files) -> stored and checked

The upload id goes into the chat body (`attachments: [upload_id]`). Files are the caller's own:
another user's or another tenant's upload id answers 404 wherever it is used.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, File, Path, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from agenthub.api.app import create_app
from agenthub.auth.deps import TenantPrincipal
from agenthub.db.models import TENANT_ID_PATTERN
from agenthub.errors import PayloadTooLargeError

TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN, examples=["acme"])]
# Multipart framing on top of the largest direct file.
_MULTIPART_OVERHEAD = 64 * 1024
# The Lambda handler's own early cap (the app checks the configured limit precisely); API
# Gateway and Lambda refuse more than 6 MB per request anyway.
REQUEST_CAP_BYTES = 8 * 1024 * 1024


def max_request_bytes() -> int:
    from agenthub.settings import get_settings

    return get_settings().uploads.direct_max_bytes + _MULTIPART_OVERHEAD


class UploadCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"filename": "invoice.png", "content_type": "image/png", "size": 48213}]
        },
    )

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=100)
    size: int = Field(description="the file's exact size in bytes (bound in the signature)")


class UploadTicketPublic(BaseModel):
    upload_id: uuid.UUID
    put_url: str
    expires_at: datetime
    max_bytes: int
    headers: dict[str, str] = Field(
        description="headers the PUT must send (Content-Type, Content-Length, ...)"
    )


class UploadPublic(BaseModel):
    upload_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    status: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid token"},
    403: {"description": "token of another tenant"},
    413: {"description": "the file is larger than allowed"},
    422: {"description": "empty file, unaccepted type, or content not matching the type"},
    502: {"description": "the file store is unavailable"},
}


def create_uploads_app() -> FastAPI:
    app = create_app(
        title="AgentHub uploads",
        description="Files to send with chat messages (invoices, receipts, scanned PDFs).",
        max_body_bytes=max_request_bytes(),
    )

    @app.post(
        "/api/{tenant_id}/uploads",
        status_code=201,
        response_model=UploadTicketPublic,
        summary="Get an upload URL for one file",
        description=(
            "A presigned S3 PUT, valid for 10 minutes, whose signature binds the content type "
            "and the exact size. PUT the file there with the returned headers, then send "
            "`attachments: [upload_id]` with a chat message."
        ),
        responses=_ERRORS,
    )
    def create_upload(
        tenant_id: TenantId, body: UploadCreate, principal: TenantPrincipal
    ) -> UploadTicketPublic:
        from agenthub.composition import get_upload_service

        ticket = get_upload_service().create(
            tenant_id=tenant_id,
            user_id=principal.user_id,
            filename=body.filename,
            content_type=body.content_type,
            size=body.size,
        )
        return UploadTicketPublic(
            upload_id=ticket.upload_id,
            put_url=ticket.put_url,
            expires_at=ticket.expires_at,
            max_bytes=ticket.max_bytes,
            headers=ticket.headers,
        )

    @app.post(
        "/api/{tenant_id}/uploads/direct",
        status_code=201,
        response_model=UploadPublic,
        summary="Upload a small file directly",
        description="multipart/form-data with one `file` part (at most 5 MB by default).",
        responses=_ERRORS,
    )
    def direct_upload(
        tenant_id: TenantId, principal: TenantPrincipal, file: Annotated[UploadFile, File()]
    ) -> UploadPublic:
        # A plain def: FastAPI runs it in a worker thread, so the database and S3 calls below
        # do not block the event loop (the multipart body is already spooled by then).
        from agenthub.composition import get_upload_service
        from agenthub.settings import get_settings

        limit = get_settings().uploads.direct_max_bytes
        body = file.file.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLargeError(f"the file is larger than {limit} bytes")
        stored = get_upload_service().store_direct(
            tenant_id=tenant_id,
            user_id=principal.user_id,
            filename=file.filename or "upload",
            content_type=file.content_type or "application/octet-stream",
            body=body,
        )
        return UploadPublic(
            upload_id=stored.upload_id,
            filename=stored.filename,
            content_type=stored.content_type,
            size=stored.size,
            status=stored.status,
        )

    return app
