"""The offline OCR path: Tesseract on Pillow-drawn invoices, PDFs, and the documents it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from agenthub.documents.ocr import (
    CorruptDocumentError,
    Document,
    EmptyDocumentError,
    EncryptedDocumentError,
    ImageTooLargeError,
    OcrLimits,
    OcrResult,
    OcrTimeoutError,
    TooManyPagesError,
    UnsupportedDocumentError,
)
from agenthub.documents.reader import read_document as read_with_limits
from agenthub.documents.tesseract import TesseractEngine
from tests.support.documents import (
    INVOICE_LINES,
    INVOICE_MST,
    INVOICE_TOTAL,
    INVOICE_VAT,
    VIETNAMESE_SELLER,
    draw_page,
    encrypted_pdf,
    invoice_png,
    invoice_scan_pdf,
    pixel_bomb_png,
    scanned_pdf,
    text_pdf,
    vietnamese_invoice_png,
)

# Generous: the shared machine can be slow; the time limit has its own test below.
RELAXED = OcrLimits(timeout_s=180)


def read_document(document: Document, **kwargs: Any) -> OcrResult:
    kwargs.setdefault("limits", RELAXED)
    return read_with_limits(document, **kwargs)


@pytest.fixture(scope="module")
def engine() -> TesseractEngine:
    return TesseractEngine()


def test_a_drawn_invoice_image_gives_its_fields_exactly(engine: TesseractEngine) -> None:
    result = read_document(
        Document(data=invoice_png(), content_type="image/png"), engine=engine, kind="auto"
    )

    assert result.kind == "invoice"
    assert result.invoice is not None
    assert result.invoice.tax_code == INVOICE_MST
    assert result.invoice.total == INVOICE_TOTAL
    assert result.invoice.vat == INVOICE_VAT
    assert result.invoice.invoice_number == "INV-2026-0042"
    assert result.invoice.date == "2026-03-15"
    assert result.invoice.seller == "ACME Trading JSC"
    assert result.pages[0].source == "tesseract"


def test_a_scanned_pdf_is_rendered_and_read_like_the_image(engine: TesseractEngine) -> None:
    result = read_document(
        Document(data=invoice_scan_pdf(), content_type="application/pdf"),
        engine=engine,
        kind="invoice",
    )

    assert result.invoice is not None
    assert result.invoice.tax_code == INVOICE_MST
    assert result.invoice.total == INVOICE_TOTAL
    assert [p.source for p in result.pages] == ["tesseract"]


def test_a_vietnamese_invoice_keeps_its_accents(engine: TesseractEngine) -> None:
    result = read_document(
        Document(data=vietnamese_invoice_png(), content_type="image/png"),
        engine=engine,
        kind="invoice",
    )

    assert "HÓA ĐƠN GIÁ TRỊ GIA TĂNG" in result.text
    assert result.invoice is not None
    assert result.invoice.seller == VIETNAMESE_SELLER
    assert result.invoice.tax_code == "0312345678"
    assert result.invoice.total == 2_160_000
    assert result.invoice.vat == 160_000
    assert result.invoice.date == "2026-03-15"


def test_a_pdf_text_layer_is_used_without_ocr() -> None:
    class NoOcr:
        name = "none"

        def read_document(self, *args: object, **kwargs: object) -> None:
            return None

        def read_image(self, *args: object, **kwargs: object) -> str:
            raise AssertionError("a page with a text layer must not be OCRed")

    data = text_pdf("\n".join(INVOICE_LINES))

    result = read_document(Document(data=data, content_type="application/pdf"), engine=NoOcr())

    assert [p.source for p in result.pages] == ["text_layer"]
    assert result.invoice is not None and result.invoice.tax_code == INVOICE_MST


@pytest.mark.parametrize(
    ("data", "content_type", "error"),
    [
        (b"", "image/png", EmptyDocumentError),
        (b"%PDF-1.7 not really", "image/png", UnsupportedDocumentError),
        (b"GIF89a......", "image/gif", UnsupportedDocumentError),
        (b"%PDF-1.4\n%garbage with no objects at all\n", "application/pdf", CorruptDocumentError),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png", CorruptDocumentError),
    ],
    ids=["empty", "declared-png-is-pdf", "unsupported-type", "corrupt-pdf", "corrupt-png"],
)
def test_bad_documents_are_refused_with_a_clear_error(
    engine: TesseractEngine, data: bytes, content_type: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        read_document(Document(data=data, content_type=content_type), engine=engine)
    assert str(raised.value)


def test_an_encrypted_pdf_is_refused(engine: TesseractEngine) -> None:
    with pytest.raises(EncryptedDocumentError, match="password"):
        read_document(Document(data=encrypted_pdf(), content_type="application/pdf"), engine=engine)


def test_too_many_pages_are_refused_before_any_ocr(engine: TesseractEngine) -> None:
    page = draw_page(("page",), size=20)
    data = scanned_pdf(page, page, page)

    with pytest.raises(TooManyPagesError, match="3 pages"):
        read_document(
            Document(data=data, content_type="application/pdf"),
            engine=engine,
            limits=OcrLimits(max_pages=2),
        )


def test_a_decompression_bomb_is_refused_from_its_header(engine: TesseractEngine) -> None:
    bomb = pixel_bomb_png()  # 144 megapixels in a few kilobytes
    assert len(bomb) < 200_000

    with pytest.raises(ImageTooLargeError, match="too large"):
        read_document(
            Document(data=bomb, content_type="image/png"),
            engine=engine,
            limits=OcrLimits(max_pixels=20_000_000),
        )


def test_reading_past_the_time_limit_stops_with_a_timeout(engine: TesseractEngine) -> None:
    page = draw_page(INVOICE_LINES)
    ticks = iter([0.0, 100.0, 200.0, 300.0])

    with pytest.raises(OcrTimeoutError):
        read_document(
            Document(data=scanned_pdf(page, page), content_type="application/pdf"),
            engine=engine,
            limits=OcrLimits(timeout_s=5),
            clock=lambda: next(ticks),
        )
