"""Text out of an uploaded file: plain text, Markdown, HTML, and PDF with a text layer.

The declared content type is checked against the file's first bytes (magic numbers), so a file
cannot pass for a type it is not (a PDF named .txt, an executable called text/plain). `extract`
is the one entry point: a scanned PDF or an image raises `NeedsOcrError`, which the documents
feature catches to run OCR (register an extractor with `register_extractor`).

Failures are `ExtractionError` with a message safe to show an admin (stored as the document's
failure reason). pypdf is imported only when a PDF is extracted.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_EXTRACTED_CHARS = 2_000_000

TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPE = "application/pdf"
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/tiff", "image/webp"})
SUPPORTED_TYPES = TEXT_TYPES | HTML_TYPES | {PDF_TYPE}

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", PDF_TYPE),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x7fELF", "application/x-executable"),
    (b"MZ", "application/x-msdownload"),
    (b"\x1f\x8b", "application/gzip"),
    (b"GIF8", "image/gif"),
)


class ExtractionError(Exception):
    """The file cannot become text; `reason` is safe to show (no content, no paths)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NeedsOcrError(ExtractionError):
    """The file is an image or a PDF without a text layer: OCR could read it."""


@dataclass(frozen=True)
class ExtractedText:
    text: str
    content_type: str
    pages: int | None = None


Extractor = Callable[[bytes, str], ExtractedText]


def normalize_content_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def sniff(data: bytes) -> str | None:
    """The type the file's first bytes announce, or None for no known signature (text)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    return None


def check_type(data: bytes, declared: str) -> str:
    """The declared type, normalized, if the bytes agree with it (ExtractionError if not)."""
    content_type = normalize_content_type(declared)
    sniffed = sniff(data)
    if content_type in TEXT_TYPES | HTML_TYPES:
        if sniffed is not None or b"\x00" in data[:4096]:
            raise ExtractionError(f"the file is not {content_type}: its content is binary")
        return content_type
    if content_type == PDF_TYPE or content_type in IMAGE_TYPES:
        if sniffed != content_type:
            raise ExtractionError(f"the file is not {content_type}: its signature does not match")
        return content_type
    raise ExtractionError(
        f"unsupported content type {content_type!r}: use text, Markdown, HTML, PDF or an image"
    )


def extract(data: bytes, content_type: str) -> ExtractedText:
    """The text of a file whose bytes match `content_type`."""
    checked = check_type(data, content_type)
    extractor = _EXTRACTORS.get(checked)
    if extractor is None:
        raise NeedsOcrError(f"{checked} files need OCR, which is not available here")
    result = extractor(data, checked)
    text = result.text.strip()
    if not text:
        raise ExtractionError("the file contains no text")
    if len(text) > MAX_EXTRACTED_CHARS:
        raise ExtractionError(f"the file's text is longer than {MAX_EXTRACTED_CHARS} characters")
    return ExtractedText(text=text, content_type=checked, pages=result.pages)


def register_extractor(content_type: str, extractor: Extractor) -> None:
    """Add or replace the extractor of a content type (e.g. OCR for images)."""
    _EXTRACTORS[normalize_content_type(content_type)] = extractor


def _decode(data: bytes) -> str:
    # UTF-16 only with its byte order mark: without one, any even-length bytes would "decode".
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ExtractionError("the text is not UTF-8") from exc


def _plain(data: bytes, content_type: str) -> ExtractedText:
    return ExtractedText(_decode(data), content_type)


_DROP_BLOCKS = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.I | re.S)
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr|/section|/article)\b[^>]*>", re.I)
_TAGS = re.compile(r"<[^>]+>")
_COMMENTS = re.compile(r"<!--.*?-->", re.S)
_BLANK_RUNS = re.compile(r"[ \t]+")
_LINE_RUNS = re.compile(r"\n\s*\n+")


def _html(data: bytes, content_type: str) -> ExtractedText:
    markup = _COMMENTS.sub(" ", _decode(data))
    markup = _DROP_BLOCKS.sub(" ", markup)
    markup = _BREAKS.sub("\n", markup)
    text = html.unescape(_TAGS.sub(" ", markup))
    text = _LINE_RUNS.sub("\n\n", _BLANK_RUNS.sub(" ", text))
    return ExtractedText("\n".join(line.strip() for line in text.splitlines()), content_type)


def _pdf(data: bytes, content_type: str) -> ExtractedText:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - depends on the installed extra
        raise ExtractionError("PDF support is not installed (the `documents` extra)") from exc
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ExtractionError("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ExtractionError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractionError("the PDF cannot be read (damaged or not a PDF)") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise NeedsOcrError("the PDF has no text layer (a scan): it needs OCR")
    return ExtractedText(text, content_type, pages=len(pages))


_EXTRACTORS: dict[str, Extractor] = {
    **dict.fromkeys(TEXT_TYPES, _plain),
    **dict.fromkeys(HTML_TYPES, _html),
    PDF_TYPE: _pdf,
}
