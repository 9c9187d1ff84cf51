"""The Textract engine against AnalyzeExpense / DetectDocumentText responses (botocore Stubber).

The responses in tests/fixtures/textract/ follow Textract's documented response shape (the
Stubber checks them against botocore's service model); they were written for these tests, not
captured from a live account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from agenthub.documents.ocr import (
    CorruptDocumentError,
    Document,
    OcrEngineError,
    OcrLimits,
    OcrTimeoutError,
    TooManyPagesError,
)
from agenthub.documents.reader import read_document
from agenthub.documents.textract import TextractEngine
from agenthub.domain import Attachment
from agenthub.tools.ocr import result_payload
from tests.support.documents import (
    INVOICE_LINES,
    INVOICE_MST,
    INVOICE_TOTAL,
    INVOICE_VAT,
    draw_page,
    invoice_png,
    scanned_pdf,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "textract"


def _recorded(name: str) -> dict[str, Any]:
    response: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return response


@pytest.fixture
def textract() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "textract", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_an_invoice_is_read_with_analyze_expense_into_the_same_card(
    textract: tuple[Any, Stubber],
) -> None:
    client, stubber = textract
    data = invoice_png()
    stubber.add_response(
        "analyze_expense", _recorded("analyze_expense"), {"Document": {"Bytes": data}}
    )

    result = read_document(
        Document(data=data, content_type="image/png"), engine=TextractEngine(client), kind="invoice"
    )

    assert result.engine == "textract" and result.kind == "invoice"
    assert result.invoice is not None
    assert result.invoice.seller == "ACME Trading JSC"
    assert result.invoice.invoice_number == "INV-2026-0042"
    assert result.invoice.date == "2026-03-15"
    assert result.invoice.total == INVOICE_TOTAL
    assert result.invoice.vat == INVOICE_VAT
    assert result.invoice.currency == "VND"
    # Not a Textract field type for Vietnam: filled from the text.
    assert result.invoice.tax_code == INVOICE_MST
    card = result_payload(_attachment(), result)
    assert card["title"] == "Invoice INV-2026-0042"
    assert (card["tax_code"], card["total"]) == (INVOICE_MST, INVOICE_TOTAL)


def test_a_plain_document_is_read_with_detect_document_text(
    textract: tuple[Any, Stubber],
) -> None:
    client, stubber = textract
    data = invoice_png()
    stubber.add_response(
        "detect_document_text", _recorded("detect_document_text"), {"Document": {"Bytes": data}}
    )

    result = read_document(
        Document(data=data, content_type="image/png"), engine=TextractEngine(client), kind="text"
    )

    assert result.kind == "text" and result.invoice is None
    assert result.text.splitlines() == list(INVOICE_LINES)


def test_auto_detects_an_invoice_from_the_text_then_analyzes_the_expense(
    textract: tuple[Any, Stubber],
) -> None:
    client, stubber = textract
    data = invoice_png()
    stubber.add_response("detect_document_text", _recorded("detect_document_text"))
    stubber.add_response("analyze_expense", _recorded("analyze_expense"))

    result = read_document(
        Document(data=data, content_type="image/png"), engine=TextractEngine(client), kind="auto"
    )

    assert result.invoice is not None and result.invoice.total == INVOICE_TOTAL


def test_a_multi_page_pdf_uses_the_asynchronous_api_on_the_stored_object(
    textract: tuple[Any, Stubber],
) -> None:
    client, stubber = textract
    page = draw_page(INVOICE_LINES)
    data = scanned_pdf(page, page)
    location = {"S3Object": {"Bucket": "files", "Name": "tenant/acme/user/alice/uploads/x"}}
    stubber.add_response(
        "start_expense_analysis", {"JobId": "job-1"}, {"DocumentLocation": location}
    )
    stubber.add_response("get_expense_analysis", {"JobStatus": "IN_PROGRESS"}, {"JobId": "job-1"})
    done = _recorded("analyze_expense")
    done.pop("ResponseMetadata")
    stubber.add_response(
        "get_expense_analysis", {**done, "JobStatus": "SUCCEEDED"}, {"JobId": "job-1"}
    )
    sleeps: list[float] = []

    result = read_document(
        Document(
            data=data,
            content_type="application/pdf",
            location=("files", "tenant/acme/user/alice/uploads/x"),
        ),
        engine=TextractEngine(client, sleep=sleeps.append),
        kind="invoice",
    )

    assert sleeps == [1.0]
    assert result.invoice is not None and result.invoice.tax_code == INVOICE_MST


def test_an_asynchronous_job_past_the_time_limit_is_a_timeout(
    textract: tuple[Any, Stubber],
) -> None:
    client, stubber = textract
    page = draw_page(("page",), size=20)
    stubber.add_response("start_document_text_detection", {"JobId": "job-2"})
    stubber.add_response("get_document_text_detection", {"JobStatus": "IN_PROGRESS"})
    ticks = iter([0.0, 10.0])

    with pytest.raises(OcrTimeoutError):
        read_document(
            Document(
                data=scanned_pdf(page, page),
                content_type="application/pdf",
                location=("files", "tenant/acme/k"),
            ),
            engine=TextractEngine(client, sleep=lambda _: None, clock=lambda: next(ticks)),
            kind="text",
            limits=OcrLimits(timeout_s=5),
        )


def test_textract_refusing_the_document_is_a_document_error(
    textract: tuple[Any, Stubber],
) -> None:
    client, stubber = textract
    stubber.add_client_error("detect_document_text", service_error_code="BadDocumentException")

    with pytest.raises(CorruptDocumentError, match="damaged"):
        read_document(
            Document(data=invoice_png(), content_type="image/png"),
            engine=TextractEngine(client),
            kind="text",
        )


def test_textract_throttling_is_an_engine_error_not_a_crash(
    textract: tuple[Any, Stubber],
) -> None:
    client, stubber = textract
    stubber.add_client_error(
        "analyze_expense", service_error_code="ProvisionedThroughputExceededException"
    )

    with pytest.raises(OcrEngineError, match="unavailable"):
        read_document(
            Document(data=invoice_png(), content_type="image/png"),
            engine=TextractEngine(client),
            kind="invoice",
        )


def test_more_pages_than_the_limit_are_refused(textract: tuple[Any, Stubber]) -> None:
    client, stubber = textract
    response = _recorded("detect_document_text")
    response["Blocks"] += [{**b, "Page": 2} for b in response["Blocks"] if b["BlockType"] == "LINE"]
    stubber.add_response("detect_document_text", response)

    with pytest.raises(TooManyPagesError):
        read_document(
            Document(data=invoice_png(), content_type="image/png"),
            engine=TextractEngine(client),
            kind="text",
            limits=OcrLimits(max_pages=1),
        )


def _attachment() -> Attachment:
    return Attachment(
        upload_id="u1",
        filename="invoice.png",
        content_type="image/png",
        size=1,
        object_key="tenant/acme/user/alice/uploads/u1",
    )
