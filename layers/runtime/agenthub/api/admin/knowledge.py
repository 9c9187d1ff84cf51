"""`/api/admin/tenants/{tenant_id}/knowledge-bases`: a tenant's knowledge bases and documents.

A knowledge base is addressed by its name or its id. Documents come as multipart (`file`, and
an optional `title`), or JSON `{title, text}` / `{title, content_base64, content_type}`, up to
5 MB; larger files (up to 50 MB) go through `documents/upload-url` (a presigned S3 PUT), then
`documents/{id}/complete` queues them. Indexing is asynchronous: poll the document's `status`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from agenthub.api.admin.deps import AdminActor, IfMatch, set_etag, version_from
from agenthub.api.admin.knowledge_schemas import (
    DocumentChangePublic,
    DocumentJson,
    DocumentList,
    DocumentPublic,
    KnowledgeBaseChange,
    KnowledgeBaseCreate,
    KnowledgeBaseList,
    KnowledgeBasePublic,
    KnowledgeBaseUpdate,
    UploadGrantPublic,
    UploadUrlRequest,
)
from agenthub.db.models import TENANT_ID_PATTERN
from agenthub.errors import PayloadTooLargeError, ValidationFailedError
from agenthub.services.admin.changes import ChangeRunner
from agenthub.services.admin.knowledge import (
    MAX_DIRECT_BYTES,
    DocumentUpload,
    KnowledgeAdmin,
    UploadRequest,
)

PREFIX = "/api/admin/tenants/{tenant_id}/knowledge-bases"
# Base64 in JSON, multipart framing: a 5 MB document takes up to ~7 MB of request body.
BODY_LIMITS = ((r"/api/admin/tenants/[^/]+/knowledge-bases/[^/]+/documents", 7_200_000),)

TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN)]
KbRef = Annotated[str, Path(min_length=1, max_length=64, description="name or id")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid token"},
    403: {"description": "another tenant's admin"},
    404: {"description": "no such tenant, knowledge base or document"},
    409: {"description": "stale version, the name is taken, or the embedding model is fixed"},
    413: {"description": "the document is over 5 MB (use upload-url)"},
    422: {"description": "invalid input; the message and details name the field"},
    503: {"description": "the knowledge store or file storage is unavailable"},
}


def knowledge_admin() -> KnowledgeAdmin:
    from agenthub import composition

    return KnowledgeAdmin(
        ChangeRunner(composition.get_sessionmaker(), composition.get_reload_publisher()),
        store=composition.get_object_store,
        chroma=composition.get_chroma_client,
        publisher=composition.get_ingest_publisher,
    )


Knowledge = Annotated[KnowledgeAdmin, Depends(knowledge_admin)]
router = APIRouter(prefix=PREFIX, tags=["knowledge"], responses=ERRORS)


@router.post("", status_code=201, response_model=KnowledgeBaseChange, summary="Create one")
def create_knowledge_base(
    tenant_id: TenantId,
    body: KnowledgeBaseCreate,
    actor: AdminActor,
    knowledge: Knowledge,
    response: Response,
) -> Any:
    changed = knowledge.create_base(actor, tenant_id=tenant_id, fields=body.model_dump())
    set_etag(response, changed.value.kb.version)
    return KnowledgeBaseChange.of_change(changed)


@router.get("", response_model=KnowledgeBaseList, summary="List the tenant's knowledge bases")
def list_knowledge_bases(tenant_id: TenantId, actor: AdminActor, knowledge: Knowledge) -> Any:
    views = knowledge.list_bases(actor, tenant_id=tenant_id)
    return KnowledgeBaseList(items=[KnowledgeBasePublic.of(v) for v in views])


@router.get("/{kb}", response_model=KnowledgeBasePublic, summary="Get one (by name or id)")
def get_knowledge_base(
    tenant_id: TenantId, kb: KbRef, actor: AdminActor, knowledge: Knowledge, response: Response
) -> Any:
    view = knowledge.get_base(actor, tenant_id=tenant_id, ref=kb)
    set_etag(response, view.kb.version)
    return KnowledgeBasePublic.of(view)


@router.patch("/{kb}", response_model=KnowledgeBaseChange, summary="Change one")
def update_knowledge_base(
    tenant_id: TenantId,
    kb: KbRef,
    body: KnowledgeBaseUpdate,
    actor: AdminActor,
    knowledge: Knowledge,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    changed = knowledge.update_base(
        actor,
        tenant_id=tenant_id,
        ref=kb,
        expected_version=version_from(if_match, body.version),
        changes=body.changes(),
    )
    set_etag(response, changed.value.kb.version)
    return KnowledgeBaseChange.of_change(changed)


@router.delete(
    "/{kb}", response_model=KnowledgeBaseChange, summary="Delete one with its documents and vectors"
)
def delete_knowledge_base(
    tenant_id: TenantId,
    kb: KbRef,
    actor: AdminActor,
    knowledge: Knowledge,
    if_match: IfMatch = None,
) -> Any:
    changed = knowledge.delete_base(
        actor, tenant_id=tenant_id, ref=kb, expected_version=version_from(if_match, None)
    )
    return KnowledgeBaseChange.of_change(changed)


# ---------------------------------------------------------------------------- documents


@router.post(
    "/{kb}/documents",
    response_model=DocumentChangePublic,
    status_code=202,
    summary="Upload a document (multipart `file`, or JSON text / base64), up to 5 MB",
    responses={200: {"description": "the same content is already there: nothing changed"}},
)
async def add_document(
    tenant_id: TenantId,
    kb: KbRef,
    request: Request,
    actor: AdminActor,
    knowledge: Knowledge,
    response: Response,
) -> Any:
    upload = await _read_upload(request)
    change = await run_in_threadpool(
        knowledge.add_document, actor, tenant_id=tenant_id, ref=kb, upload=upload
    )
    if not change.created:
        response.status_code = 200
    return DocumentChangePublic.of(change)


@router.post(
    "/{kb}/documents/upload-url",
    response_model=UploadGrantPublic,
    status_code=201,
    summary="A presigned S3 PUT for a document up to 50 MB; then call documents/{id}/complete",
    responses={200: {"description": "the same content is already there: no upload needed"}},
)
def document_upload_url(
    tenant_id: TenantId,
    kb: KbRef,
    body: UploadUrlRequest,
    actor: AdminActor,
    knowledge: Knowledge,
    response: Response,
) -> Any:
    grant = knowledge.presign_upload(
        actor,
        tenant_id=tenant_id,
        ref=kb,
        request=UploadRequest(
            title=body.title,
            content_type=body.content_type,
            size=body.size,
            sha256=body.sha256,
            filename=body.filename,
        ),
    )
    if not grant.created:
        response.status_code = 200
    return UploadGrantPublic.of(grant)


@router.post(
    "/{kb}/documents/{document_id}/complete",
    response_model=DocumentChangePublic,
    status_code=202,
    summary="The presigned upload is done: queue the document for indexing",
)
def complete_document_upload(
    tenant_id: TenantId,
    kb: KbRef,
    document_id: uuid.UUID,
    actor: AdminActor,
    knowledge: Knowledge,
    response: Response,
) -> Any:
    change = knowledge.complete_upload(actor, tenant_id=tenant_id, ref=kb, document_id=document_id)
    if not change.created:
        response.status_code = 200
    return DocumentChangePublic.of(change)


@router.get("/{kb}/documents", response_model=DocumentList, summary="List the documents")
def list_documents(tenant_id: TenantId, kb: KbRef, actor: AdminActor, knowledge: Knowledge) -> Any:
    documents = knowledge.list_documents(actor, tenant_id=tenant_id, ref=kb)
    return DocumentList(items=[DocumentPublic.of(d) for d in documents])


@router.get("/{kb}/documents/{document_id}", response_model=DocumentPublic, summary="One document")
def get_document(
    tenant_id: TenantId, kb: KbRef, document_id: uuid.UUID, actor: AdminActor, knowledge: Knowledge
) -> Any:
    document = knowledge.get_document(actor, tenant_id=tenant_id, ref=kb, document_id=document_id)
    return DocumentPublic.of(document)


@router.delete(
    "/{kb}/documents/{document_id}",
    response_model=DocumentPublic,
    summary="Delete a document with its file and vectors",
)
def delete_document(
    tenant_id: TenantId, kb: KbRef, document_id: uuid.UUID, actor: AdminActor, knowledge: Knowledge
) -> Any:
    document = knowledge.delete_document(
        actor, tenant_id=tenant_id, ref=kb, document_id=document_id
    )
    return DocumentPublic.of(document)


# ---------------------------------------------------------------------------- body parsing


async def _read_upload(request: Request) -> DocumentUpload:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        return await _read_multipart(request)
    if content_type.startswith("application/json"):
        raw = await _read_body(request)
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            raise _invalid("body", "not valid JSON") from exc
        body = DocumentJson.parse(payload)
        if body.text is not None:
            return DocumentUpload(
                title=body.title,
                content_type=body.content_type or "text/plain",
                data=body.text.encode("utf-8"),
            )
        try:
            data = base64.b64decode(body.content_base64 or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _invalid("content_base64", "not valid base64") from exc
        return DocumentUpload(title=body.title, content_type=body.content_type or "", data=data)
    raise _invalid("content-type", "send multipart/form-data or application/json")


async def _read_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_DIRECT_BYTES * 4 // 3 + 64_000:
            raise _too_large()
    return bytes(body)


async def _read_multipart(request: Request) -> DocumentUpload:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_DIRECT_BYTES + 64_000:
        raise _too_large()
    async with request.form(max_files=1, max_fields=5) as form:
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise _invalid("file", "a multipart field `file` with the document is required")
        data = await file.read(MAX_DIRECT_BYTES + 1)
        title = form.get("title")
        filename = file.filename or None
        content_type = file.content_type or "application/octet-stream"
    if len(data) > MAX_DIRECT_BYTES:
        raise _too_large()
    return DocumentUpload(
        title=str(title) if isinstance(title, str) and title.strip() else (filename or ""),
        content_type=content_type,
        data=data,
        filename=filename,
    )


def _too_large() -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"a document posted to the API is at most {MAX_DIRECT_BYTES} bytes; "
        "use documents/upload-url for larger files"
    )


def _invalid(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        f"invalid input: {field}: {message}", details=[{"field": field, "message": message}]
    )
