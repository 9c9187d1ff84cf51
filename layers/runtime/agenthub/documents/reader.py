"""Read a document with an engine: check the bytes, apply the limits, find invoice fields.

Images and scanned PDF pages go to the engine one page at a time (Pillow, pypdf and pypdfium2
are imported only on that path); an engine that reads whole documents (Textract) gets the bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from agenthub.documents.invoice import looks_like_invoice, parse_invoice
from agenthub.documents.ocr import (
    Document,
    DocumentKind,
    EmptyDocumentError,
    OcrEngine,
    OcrLimits,
    OcrResult,
    OcrTimeoutError,
    PageText,
    UnsupportedDocumentError,
)
from agenthub.documents.sniff import PDF, mismatch, normalise_type, sniff

Clock = Callable[[], float]


def check_document(document: Document) -> str:
    """The document's real type; a DocumentError when it is empty, unsupported or mislabelled."""
    if not document.data:
        raise EmptyDocumentError("the file is empty")
    problem = mismatch(document.content_type, document.data[:16])
    if problem is not None:
        raise UnsupportedDocumentError(problem)
    actual = sniff(document.data[:16])
    assert actual is not None
    return actual


def read_document(
    document: Document,
    *,
    engine: OcrEngine,
    kind: DocumentKind = "auto",
    limits: OcrLimits = OcrLimits(),
    clock: Clock = time.monotonic,
) -> OcrResult:
    content_type = check_document(document)
    document = Document(
        data=document.data,
        content_type=normalise_type(content_type),
        filename=document.filename,
        location=document.location,
    )
    own = engine.read_document(document, kind=kind, limits=limits)
    if own is not None:
        return own
    deadline = clock() + limits.timeout_s
    pages = _read_pages(document, engine, limits, deadline, clock)
    text = "\n\n".join(page.text.strip() for page in pages if page.text.strip())
    return with_fields(
        OcrResult(text=text, pages=tuple(pages), engine=engine.name, kind="text"), kind
    )


def with_fields(result: OcrResult, kind: DocumentKind) -> OcrResult:
    """The result with invoice fields, when the document is (or looks like) an invoice."""
    if kind == "text" or (kind == "auto" and not looks_like_invoice(result.text)):
        return result
    fields = parse_invoice(result.text)
    if result.invoice is not None:
        fields = result.invoice.merged_with(fields)
    found_kind: DocumentKind = "receipt" if kind == "receipt" else "invoice"
    return OcrResult(
        text=result.text,
        pages=result.pages,
        engine=result.engine,
        kind=found_kind,
        invoice=fields,
        warnings=result.warnings,
    )


def _read_pages(
    document: Document, engine: OcrEngine, limits: OcrLimits, deadline: float, clock: Clock
) -> list[PageText]:
    if document.content_type == PDF:
        from agenthub.documents.pdf import read_pages

        pdf_pages = read_pages(document.data, limits)
        out: list[PageText] = []
        for page in pdf_pages:
            if page.text is not None:
                out.append(PageText(number=page.number, text=page.text, source="text_layer"))
                continue
            assert page.image is not None
            text = engine.read_image(page.image, timeout_s=_remaining(deadline, clock))
            out.append(PageText(number=page.number, text=text, source=engine.name))
        return out
    from agenthub.documents.images import open_pages

    images = open_pages(document.data, limits)
    return [
        PageText(
            number=number,
            text=engine.read_image(image, timeout_s=_remaining(deadline, clock)),
            source=engine.name,
        )
        for number, image in enumerate(images, start=1)
    ]


def _remaining(deadline: float, clock: Clock) -> float:
    left = deadline - clock()
    if left <= 0:
        raise OcrTimeoutError("reading the document took too long; try fewer pages")
    return left
