"""Text extraction: types checked against the file's bytes, HTML and PDF text, clear refusals."""

from __future__ import annotations

import pytest

from agenthub.documents.extract import (
    ExtractedText,
    ExtractionError,
    NeedsOcrError,
    check_type,
    extract,
    register_extractor,
    sniff,
)
from tests.support.pdf import text_pdf

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_plain_text_and_markdown_are_decoded() -> None:
    assert extract("Điều khoản thanh toán: 30 ngày".encode(), "text/plain").text == (
        "Điều khoản thanh toán: 30 ngày"
    )
    assert extract(b"# Returns\n\n14 days", "text/markdown; charset=utf-8").text.startswith(
        "# Returns"
    )


def test_html_keeps_the_text_and_drops_scripts_styles_and_tags() -> None:
    html = (
        b"<html><head><style>p{color:red}</style><script>alert('x')</script></head>"
        b"<body><h1>Warranty</h1><p>12 months &amp; free repair</p><!-- hidden --></body></html>"
    )
    text = extract(html, "text/html").text
    assert "Warranty" in text and "12 months & free repair" in text
    assert "alert" not in text and "color" not in text and "hidden" not in text


def test_a_pdf_text_layer_is_extracted() -> None:
    result = extract(text_pdf(["Warranty: 36 months on all pumps."]), "application/pdf")
    assert "36 months" in result.text
    assert result.pages == 1


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (b"%PDF-1.4 not really text", "text/plain"),
        (b"\x7fELF\x02\x01", "text/plain"),
        (PNG, "text/html"),
        (b"just text", "application/pdf"),
        (b"MZ\x90\x00", "application/pdf"),
    ],
    ids=["pdf-as-text", "elf-as-text", "png-as-html", "text-as-pdf", "exe-as-pdf"],
)
def test_a_file_that_is_not_its_declared_type_is_refused(data: bytes, declared: str) -> None:
    with pytest.raises(ExtractionError) as caught:
        check_type(data, declared)
    assert declared in caught.value.reason


def test_unsupported_types_empty_files_and_broken_pdfs_are_refused_with_a_reason() -> None:
    with pytest.raises(ExtractionError, match="unsupported content type"):
        extract(b"a,b\n1,2", "text/csv")
    with pytest.raises(ExtractionError, match="no text"):
        extract(b"   \n ", "text/plain")
    with pytest.raises(ExtractionError, match="cannot be read"):
        extract(b"%PDF-1.4\n garbage garbage", "application/pdf")
    with pytest.raises(ExtractionError, match="not UTF-8"):
        extract(b"caf\xe9 cr\xe8me", "text/plain")


def test_images_need_ocr_and_an_ocr_extractor_can_be_registered() -> None:
    assert sniff(PNG) == "image/png"
    with pytest.raises(NeedsOcrError):
        extract(PNG, "image/png")
    register_extractor("image/png", lambda data, ct: ExtractedText("scanned words", ct))
    try:
        assert extract(PNG, "image/png").text == "scanned words"
    finally:
        from agenthub.documents import extract as module

        module._EXTRACTORS.pop("image/png")
