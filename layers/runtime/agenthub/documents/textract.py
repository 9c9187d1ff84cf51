"""The AWS OCR engine: Amazon Textract through boto3 (in the Lambda runtime: nothing added to
the layer, no Pillow or pypdf needed).

- invoices and receipts: `AnalyzeExpense` (its summary fields, gaps filled from the text);
- other documents: `DetectDocumentText`;
- multi-page PDFs: the asynchronous `StartExpenseAnalysis` / `StartDocumentTextDetection` on the
  object in S3 (the synchronous calls take single pages only), polled until the time limit.
Driver errors become `DocumentError`s the agent can explain.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agenthub.documents.invoice import InvoiceFields, looks_like_invoice, parse_amount
from agenthub.documents.ocr import (
    CorruptDocumentError,
    Document,
    DocumentError,
    DocumentKind,
    ImageTooLargeError,
    OcrEngineError,
    OcrLimits,
    OcrResult,
    OcrTimeoutError,
    PageText,
    TooManyPagesError,
    UnsupportedDocumentError,
)
from agenthub.documents.sniff import PDF

# Textract's synchronous calls take documents up to 10 MB.
MAX_SYNC_BYTES = 10 * 1024 * 1024

# AnalyzeExpense summary field types -> our invoice fields.
_EXPENSE_FIELDS = {
    "VENDOR_NAME": "seller",
    "TAX_PAYER_ID": "tax_code",
    "VENDOR_VAT_NUMBER": "tax_code",
    "VENDOR_GST_NUMBER": "tax_code",
    "INVOICE_RECEIPT_ID": "invoice_number",
    "INVOICE_RECEIPT_DATE": "date",
    "TOTAL": "total",
    "AMOUNT_DUE": "total",
    "TAX": "vat",
}
_DOCUMENT_ERRORS = {
    "UnsupportedDocumentException": UnsupportedDocumentError,
    "BadDocumentException": CorruptDocumentError,
    "DocumentTooLargeException": ImageTooLargeError,
    "InvalidParameterException": CorruptDocumentError,
}


class TextractEngine:
    name = "textract"

    def __init__(
        self,
        client: Any,
        *,
        poll_interval_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._poll_interval_s = poll_interval_s
        self._sleep = sleep
        self._clock = clock

    def read_image(self, image: Any, *, timeout_s: float) -> str:
        import io

        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        response = self._call("detect_document_text", Document={"Bytes": buffer.getvalue()})
        return _lines_text(response.get("Blocks", []))

    def read_document(
        self, document: Document, *, kind: DocumentKind, limits: OcrLimits
    ) -> OcrResult:
        expense = kind in ("invoice", "receipt")
        multi_page = document.content_type == PDF and _maybe_multi_page(document.data)
        if multi_page or len(document.data) > MAX_SYNC_BYTES:
            result = self._read_async(document, expense=expense, limits=limits)
        elif expense:
            result = _expense_result(self._call("analyze_expense", Document=_bytes(document)))
        else:
            result = _text_result(self._call("detect_document_text", Document=_bytes(document)))
        pages = len(result.pages)
        if pages > limits.max_pages:
            raise TooManyPagesError(
                f"the document has {pages} pages; at most {limits.max_pages} can be read"
            )
        if kind == "auto" and looks_like_invoice(result.text) and not multi_page:
            # The text says invoice: AnalyzeExpense reads its fields better than our patterns.
            result = _expense_result(self._call("analyze_expense", Document=_bytes(document)))
        return _kind(result, kind)

    # ------------------------------------------------------------------ asynchronous API

    def _read_async(self, document: Document, *, expense: bool, limits: OcrLimits) -> OcrResult:
        if document.location is None:
            raise UnsupportedDocumentError("multi-page documents can only be read from storage")
        bucket, key = document.location
        location = {"S3Object": {"Bucket": bucket, "Name": key}}
        start, get = (
            ("start_expense_analysis", "get_expense_analysis")
            if expense
            else ("start_document_text_detection", "get_document_text_detection")
        )
        job_id = self._call(start, DocumentLocation=location)["JobId"]
        deadline = self._clock() + limits.timeout_s
        responses = self._poll(get, job_id, deadline)
        if expense:
            documents = [d for r in responses for d in r.get("ExpenseDocuments", [])]
            return _expense_result({"ExpenseDocuments": documents})
        blocks = [b for r in responses for b in r.get("Blocks", [])]
        return _text_result({"Blocks": blocks})

    def _poll(self, operation: str, job_id: str, deadline: float) -> list[dict[str, Any]]:
        while True:
            first = self._call(operation, JobId=job_id)
            status = first.get("JobStatus")
            if status in ("SUCCEEDED", "PARTIAL_SUCCESS"):
                pages = [first]
                token = first.get("NextToken")
                while token:
                    page = self._call(operation, JobId=job_id, NextToken=token)
                    pages.append(page)
                    token = page.get("NextToken")
                return pages
            if status == "FAILED":
                raise CorruptDocumentError(
                    "the document could not be read: " + str(first.get("StatusMessage") or "")
                )
            if self._clock() + self._poll_interval_s > deadline:
                raise OcrTimeoutError("reading the document took too long; try fewer pages")
            self._sleep(self._poll_interval_s)

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self._client, operation)(**params)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            error = _DOCUMENT_ERRORS.get(code)
            if error is not None:
                raise error(_document_message(code)) from exc
            raise OcrEngineError(f"Textract is unavailable right now ({code})") from exc
        except BotoCoreError as exc:
            raise OcrEngineError("Textract could not be reached") from exc
        return response


def _bytes(document: Document) -> dict[str, Any]:
    return {"Bytes": document.data}


def _maybe_multi_page(data: bytes) -> bool:
    """Whether a PDF may have several pages; pypdf counts them when it is installed."""
    try:
        from agenthub.documents.pdf import page_count
    except ImportError:  # pragma: no cover - the Lambda runtime has no pypdf
        return True
    try:
        return page_count(data) > 1
    except DocumentError:
        raise
    except Exception:  # pypdf missing its own dependencies: let Textract decide
        return True


def _document_message(code: str) -> str:
    return {
        "UnsupportedDocumentException": "the document's format is not supported",
        "BadDocumentException": "the document is damaged and cannot be read",
        "DocumentTooLargeException": "the document is too large to read",
        "InvalidParameterException": "the document cannot be read",
    }[code]


def _lines_text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b.get("Text", "") for b in blocks if b.get("BlockType") == "LINE")


def _pages_of(blocks: list[dict[str, Any]]) -> tuple[PageText, ...]:
    by_page: dict[int, list[str]] = {}
    for block in blocks:
        if block.get("BlockType") == "LINE":
            by_page.setdefault(int(block.get("Page", 1)), []).append(block.get("Text", ""))
    return tuple(
        PageText(number=number, text="\n".join(lines), source="textract")
        for number, lines in sorted(by_page.items())
    )


def _text_result(response: dict[str, Any]) -> OcrResult:
    pages = _pages_of(response.get("Blocks", []))
    text = "\n\n".join(p.text for p in pages)
    return OcrResult(text=text, pages=pages, engine="textract", kind="text")


def _expense_result(response: dict[str, Any]) -> OcrResult:
    documents = response.get("ExpenseDocuments", [])
    blocks = [b for d in documents for b in d.get("Blocks", [])]
    pages = _pages_of(blocks)
    values: dict[str, Any] = {}
    currency = None
    for document in documents:
        for field in document.get("SummaryFields", []):
            name = _EXPENSE_FIELDS.get(str(field.get("Type", {}).get("Text", "")))
            value = str(field.get("ValueDetection", {}).get("Text", "")).strip()
            if name is None or not value or name in values:
                continue
            if name in ("total", "vat"):
                amount = _money(value)
                if amount is None:
                    continue
                values[name] = amount
                currency = currency or field.get("Currency", {}).get("Code")
            elif name == "tax_code":
                digits = "".join(c for c in value if c.isdigit() or c == "-").strip("-")
                values[name] = digits or value
            elif name == "date":
                values[name] = _date(value)
            else:
                values[name] = value.replace("\n", " ")
    fields = InvoiceFields(**values, currency=currency)
    text = "\n\n".join(p.text for p in pages)
    return OcrResult(text=text, pages=pages, engine="textract", kind="invoice", invoice=fields)


def _money(value: str) -> int | float | None:
    cleaned = "".join(c for c in value if c.isdigit() or c in ".,")
    return parse_amount(cleaned) if cleaned else None


def _date(value: str) -> str:
    from agenthub.documents.invoice import parse_invoice

    return parse_invoice(f"Date: {value}").date or value


def _kind(result: OcrResult, kind: DocumentKind) -> OcrResult:
    from agenthub.documents.reader import with_fields

    if result.invoice is None:
        return with_fields(result, kind)
    return with_fields(result, "receipt" if kind == "receipt" else "invoice")
