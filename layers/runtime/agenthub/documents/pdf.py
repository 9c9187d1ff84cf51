"""PDFs: the text layer first (pypdf); pages without one are rendered (pypdfium2) for OCR.

Both libraries come with the `documents` extra and are imported only here.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agenthub.documents.ocr import (
    CorruptDocumentError,
    EncryptedDocumentError,
    ImageTooLargeError,
    OcrLimits,
    TooManyPagesError,
)

if TYPE_CHECKING:
    from PIL.Image import Image
    from pypdf import PdfReader

# A page whose text layer has fewer letters than this is treated as scanned.
MIN_TEXT_LAYER_CHARS = 20
# Below this resolution OCR is not worth running: the page is too large for the pixel limit.
MIN_RENDER_DPI = 100


@dataclass(frozen=True)
class PdfPage:
    number: int
    # The page's own text, or None when it must be OCRed from `image`.
    text: str | None
    image: Image | None = None


def page_count(data: bytes) -> int:
    return len(_reader(data).pages)


def read_pages(data: bytes, limits: OcrLimits) -> list[PdfPage]:
    reader = _reader(data)
    count = len(reader.pages)
    if count == 0:
        raise CorruptDocumentError("the PDF has no pages")
    if count > limits.max_pages:
        raise TooManyPagesError(
            f"the PDF has {count} pages; at most {limits.max_pages} can be read"
        )
    pages: list[PdfPage] = []
    scanned: list[int] = []
    for index, page in enumerate(reader.pages):
        try:
            text = page.extract_text() or ""
        except Exception:  # a broken content stream: OCR the rendered page instead
            text = ""
        if sum(c.isalnum() for c in text) >= MIN_TEXT_LAYER_CHARS:
            pages.append(PdfPage(number=index + 1, text=text))
        else:
            scanned.append(index)
            pages.append(PdfPage(number=index + 1, text=None))
    if scanned:
        images = _render(data, scanned, limits)
        pages = [
            PdfPage(number=p.number, text=None, image=images[p.number - 1]) if p.text is None else p
            for p in pages
        ]
    return pages


def _reader(data: bytes) -> PdfReader:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise EncryptedDocumentError(
                "the PDF is encrypted (password-protected); send an unprotected copy"
            )
        reader.pages  # noqa: B018 - parses the page tree: a broken one fails here, not later
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise CorruptDocumentError("the PDF is damaged and cannot be read") from exc
    return reader


def _render(data: bytes, indexes: list[int], limits: OcrLimits) -> dict[int, Image]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise CorruptDocumentError("the PDF is damaged and cannot be rendered") from exc
    try:
        images: dict[int, Image] = {}
        for index in indexes:
            page = document[index]
            width_pt, height_pt = page.get_size()
            scale = _scale(width_pt, height_pt, limits)
            bitmap = page.render(scale=scale, grayscale=True)
            images[index] = bitmap.to_pil()
        return images
    except pdfium.PdfiumError as exc:
        raise CorruptDocumentError("a page of the PDF cannot be rendered") from exc
    finally:
        document.close()


def _scale(width_pt: float, height_pt: float, limits: OcrLimits) -> float:
    """Render at the configured DPI, lowered to fit the pixel limit (never below 100 DPI)."""
    scale = limits.render_dpi / 72
    pixels = width_pt * scale * height_pt * scale
    if pixels > limits.max_pixels:
        scale = math.sqrt(limits.max_pixels / (width_pt * height_pt))
    if scale * 72 < MIN_RENDER_DPI or width_pt <= 0 or height_pt <= 0:
        raise ImageTooLargeError(
            f"a page of the PDF is too large to read (over {limits.max_pixels:,} pixels at "
            f"{MIN_RENDER_DPI} DPI)"
        )
    return scale
