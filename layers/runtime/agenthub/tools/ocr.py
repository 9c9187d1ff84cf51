"""The OCR tool type: read a document the user attached to the message.

The attachment comes from the run's `ToolContext` (never from the model's arguments); the
model may only choose which attachment (`document`, 1-based) and what kind it is (`kind`).
The engine (Tesseract offline, Textract on AWS) and the file store are built lazily by the
composition root and handed in through `DocumentDependencies`: a chat turn that reads no
document imports neither boto3 nor Pillow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool

from agenthub.documents.ocr import DocumentError, OcrLimits, OcrResult
from agenthub.domain import Attachment, ToolContext, ToolSpec
from agenthub.errors import NotFoundError, PayloadTooLargeError, StorageError
from agenthub.tools.base import CallResult, ToolFailure, compact_json, runtime_tool
from agenthub.tools.schema import json_schema_to_model

if TYPE_CHECKING:
    from agenthub.documents.ocr import OcrEngine
    from agenthub.storage.objects import ObjectStore

# The text the agent gets back, all pages together (the card carries the fields).
MAX_RESULT_TEXT = 6000
KINDS = ("auto", "invoice", "receipt", "text")


@dataclass(frozen=True)
class DocumentDependencies:
    store: Callable[[], ObjectStore]
    engine: Callable[[], OcrEngine]
    limits: OcrLimits = field(default_factory=OcrLimits)
    max_bytes: int = 20 * 1024 * 1024


def build_ocr_tool(spec: ToolSpec, *, documents: DocumentDependencies) -> BaseTool:
    def execute(args: dict[str, Any], context: ToolContext) -> CallResult:
        attachment = _chosen(args, context)
        kind = str(args.get("kind") or spec.config.get("kind") or "auto")
        if kind not in KINDS:
            kind = "auto"
        result = _read(attachment, context, kind, documents)
        return CallResult(content=compact_json(result_payload(attachment, result)))

    return runtime_tool(
        tool_id=str(spec.id),
        name=spec.name,
        description=spec.description,
        args_model=json_schema_to_model(spec.name, spec.input_schema),
        execute=execute,
    )


def _chosen(args: dict[str, Any], context: ToolContext) -> Attachment:
    attachments = context.attachments
    if not attachments:
        raise ToolFailure(
            "no_document",
            "no document is attached to this message; attach the file (PDF, PNG, JPEG, TIFF "
            "or WebP) and ask again",
        )
    position = args.get("document", 1)
    if not isinstance(position, int) or not 1 <= position <= len(attachments):
        raise ToolFailure(
            "bad_arguments",
            f"document must be between 1 and {len(attachments)} (the attachments of this message)",
        )
    return attachments[position - 1]


def _read(
    attachment: Attachment, context: ToolContext, kind: str, documents: DocumentDependencies
) -> OcrResult:
    from agenthub.documents.ocr import Document
    from agenthub.documents.reader import read_document

    store = documents.store()
    try:
        stored = store.get(
            tenant_id=context.tenant_id, key=attachment.object_key, max_bytes=documents.max_bytes
        )
    except NotFoundError as exc:
        raise ToolFailure("no_document", "the attached file is no longer stored") from exc
    except PayloadTooLargeError as exc:
        raise ToolFailure("oversize", exc.message) from exc
    except StorageError as exc:
        raise ToolFailure("network", "the file store is unavailable right now") from exc
    document = Document(
        data=stored.body,
        content_type=attachment.content_type,
        filename=attachment.filename,
        location=(store.bucket, attachment.object_key),
    )
    try:
        return read_document(
            document,
            engine=documents.engine(),
            kind=kind,  # type: ignore[arg-type]
            limits=documents.limits,
        )
    except DocumentError as exc:
        raise ToolFailure("document", f"{attachment.filename}: {exc.message}") from exc


def result_payload(attachment: Attachment, result: OcrResult) -> dict[str, Any]:
    """What the agent reads: the fields first (a card for invoices), then the pages' text."""
    payload: dict[str, Any] = {}
    fields = result.invoice.as_dict() if result.invoice is not None else {}
    number = fields.get("invoice_number")
    if result.invoice is not None:
        label = "Receipt" if result.kind == "receipt" else "Invoice"
        payload["title"] = f"{label} {number}" if number else f"{label} {attachment.filename}"
    else:
        payload["title"] = attachment.filename
    payload["document"] = attachment.filename
    payload["kind"] = result.kind
    payload.update({k: v for k, v in fields.items() if v is not None})
    if result.invoice is None:
        payload["excerpt"] = _shorten(result.text, 300) or "(no text found)"
    budget = MAX_RESULT_TEXT
    pages = []
    for page in result.pages:
        text = _shorten(page.text.strip(), max(budget, 0))
        budget -= len(text)
        pages.append({"page": page.number, "source": page.source, "text": text})
    payload["pages"] = pages
    return payload


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"
