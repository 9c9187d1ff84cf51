"""The OCR port: what an engine reads, what it returns, and the errors a document can cause.

Two engines implement `OcrEngine`: `tesseract.TesseractEngine` (offline: local stack, tests)
and `textract.TextractEngine` (AWS). `reader.read_document` runs the shared part: checking the
bytes, the PDF text layer, rendering scanned pages, limits, and invoice fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image

    from agenthub.documents.invoice import InvoiceFields

DocumentKind = Literal["auto", "invoice", "receipt", "text"]


class DocumentError(Exception):
    """A document that cannot be read, as the user should hear it (no internals)."""

    code = "unreadable"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmptyDocumentError(DocumentError):
    code = "empty"


class UnsupportedDocumentError(DocumentError):
    code = "unsupported_type"


class TooManyPagesError(DocumentError):
    code = "too_many_pages"


class ImageTooLargeError(DocumentError):
    """More pixels than the limit: a decompression bomb or simply too big to OCR."""

    code = "too_many_pixels"


class EncryptedDocumentError(DocumentError):
    code = "encrypted"


class CorruptDocumentError(DocumentError):
    code = "corrupt"


class OcrTimeoutError(DocumentError):
    code = "timeout"


class OcrEngineError(DocumentError):
    """The engine itself failed (Textract unreachable or throttled, tesseract crashed)."""

    code = "engine_unavailable"


@dataclass(frozen=True)
class OcrLimits:
    max_pages: int = 10
    # Per page or image; Pillow's MAX_IMAGE_PIXELS is set to this while reading.
    max_pixels: int = 40_000_000
    timeout_s: float = 20.0
    # Scanned PDF pages are rendered at this resolution (capped by max_pixels).
    render_dpi: int = 200


@dataclass(frozen=True)
class Document:
    """Bytes to read. `location` (bucket, key) lets an engine read it in place (Textract's
    asynchronous API reads multi-page PDFs from S3 only)."""

    data: bytes
    content_type: str
    filename: str = ""
    location: tuple[str, str] | None = None


@dataclass(frozen=True)
class PageText:
    number: int
    text: str
    # "text_layer" (a PDF's own text), or the engine that read it.
    source: str


@dataclass(frozen=True)
class OcrResult:
    text: str
    pages: tuple[PageText, ...]
    engine: str
    kind: DocumentKind = "text"
    # Set for invoices and receipts.
    invoice: InvoiceFields | None = None
    warnings: tuple[str, ...] = field(default=())


class OcrEngine(Protocol):
    """Reads images (pages) into text; `read_document` may hand it whole documents too."""

    name: str

    def read_image(self, image: Image, *, timeout_s: float) -> str:
        """The text of one page image."""
        ...

    def read_document(
        self, document: Document, *, kind: DocumentKind, limits: OcrLimits
    ) -> OcrResult | None:
        """The engine's own reading of the whole document, or None to let `read_document`
        split it into page images (the offline engine does; Textract reads PDFs itself)."""
        ...
