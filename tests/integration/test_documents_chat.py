"""Attachments in chat, offline: upload an invoice, ask the OCR agent, follow up with Debt."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.support.documents import (
    INVOICE_MST,
    INVOICE_TOTAL,
    VIETNAMESE_SELLER,
    invoice_png,
    invoice_scan_pdf,
    vietnamese_invoice_png,
)

if TYPE_CHECKING:
    from tests.integration.document_fixtures import Client
    from tests.integration.storage_fixtures import FilesBucket

pytest_plugins = ["tests.integration.document_fixtures"]

ClientFor = Callable[..., "Client"]


def _field(data: dict[str, Any], label: str) -> Any:
    return next(f["value"] for f in data["fields"] if f["label"].lower() == label)


def test_read_this_invoice_answers_with_a_card_of_its_fields(client_for: ClientFor) -> None:
    alice = client_for()
    upload_id = alice.upload(invoice_png())

    result = alice.chat("read this invoice", attachments=[upload_id])

    assert result.status == 200, result.body
    body = result.body
    assert body["agent"] == "ocr"
    assert body["format"] == "card" and body["renderer_hint"] == "card"
    assert body["data"]["title"] == "Invoice INV-2026-0042"
    assert _field(body["data"], "tax code") == INVOICE_MST
    assert _field(body["data"], "total") == INVOICE_TOTAL
    assert _field(body["data"], "seller") == "ACME Trading JSC"


def test_a_scanned_pdf_invoice_is_read_the_same_way(client_for: ClientFor) -> None:
    alice = client_for()
    upload_id = alice.upload(
        invoice_scan_pdf(), filename="scan.pdf", content_type="application/pdf"
    )

    result = alice.chat("read this invoice", attachments=[upload_id])

    assert result.status == 200, result.body
    assert _field(result.body["data"], "tax code") == INVOICE_MST
    assert _field(result.body["data"], "total") == INVOICE_TOTAL


def test_a_vietnamese_invoice_keeps_its_accents_in_the_answer(client_for: ClientFor) -> None:
    alice = client_for()
    upload = alice.direct(vietnamese_invoice_png(), filename="hoa-don.png")
    assert upload.status == 201, upload.body

    result = alice.chat(
        "đọc hóa đơn này (read this invoice)", attachments=[upload.body["upload_id"]]
    )

    assert result.status == 200, result.body
    assert result.body["agent"] == "ocr"
    assert _field(result.body["data"], "seller") == VIETNAMESE_SELLER
    assert _field(result.body["data"], "total") == 2_160_000


def test_a_follow_up_goes_to_the_debt_agent_with_the_mst_from_the_invoice(
    client_for: ClientFor,
) -> None:
    alice = client_for()
    upload_id = alice.upload(invoice_png())
    first = alice.chat("read this invoice", attachments=[upload_id])
    assert first.status == 200, first.body

    follow_up = alice.chat("what does this customer owe us?", session_id=first.body["session_id"])

    assert follow_up.status == 200, follow_up.body
    assert follow_up.body["agent"] == "debt"
    assert follow_up.body["format"] == "card"
    assert _field(follow_up.body["data"], "total debt") == 269_750_000


def test_the_stored_message_and_the_sessions_api_show_the_attachment(
    client_for: ClientFor,
) -> None:
    from sqlalchemy import select

    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Message, MessageRole, Upload

    alice = client_for()
    upload_id = alice.upload(invoice_png())
    result = alice.chat("read this invoice", attachments=[upload_id])
    assert result.status == 200, result.body

    with get_sessionmaker()() as db:
        user = db.scalars(select(Message).where(Message.role == MessageRole.USER)).one()
        upload = db.scalars(select(Upload)).one()
    assert user.content == "read this invoice"
    assert user.data == {
        "attachments": [
            {
                "upload_id": upload_id,
                "filename": "invoice.png",
                "content_type": "image/png",
                "size": len(invoice_png()),
            }
        ]
    }
    assert str(upload.session_id) == result.body["session_id"]
    assert upload.status == "ready"


def test_the_file_is_stored_under_the_users_prefix_tagged_attached(
    client_for: ClientFor, documents_env: FilesBucket
) -> None:
    alice = client_for()
    upload_id = alice.upload(invoice_png())
    alice.chat("read this invoice", attachments=[upload_id])

    key = f"tenant/acme/user/alice/uploads/{upload_id}"
    head = documents_env.client.head_object(Bucket=documents_env.name, Key=key)
    tags = documents_env.client.get_object_tagging(Bucket=documents_env.name, Key=key)
    assert head["ContentLength"] == len(invoice_png())
    assert head["ServerSideEncryption"] == "AES256"
    assert tags["TagSet"] == [{"Key": "agenthub-upload", "Value": "attached"}]


def test_without_an_attachment_the_ocr_agent_asks_for_the_file(client_for: ClientFor) -> None:
    result = client_for().chat("read this invoice")

    assert result.status == 200, result.body
    assert result.body["agent"] == "ocr"
    assert "attach" in result.body["text"].lower()
    assert result.body["data"] is None


def test_the_sessions_api_shows_the_attachment_on_the_users_message(
    client_for: ClientFor, token_for: Callable[..., str]
) -> None:
    from tests.support.lambda_events import invoke, load_handler, rest_event

    alice = client_for()
    upload_id = alice.upload(invoice_png())
    session_id = alice.chat("read this invoice", attachments=[upload_id]).body["session_id"]

    event = rest_event(
        "GET",
        f"/api/acme/session/{session_id}",
        token=token_for("acme", "alice"),
        resource="/api/{tenant_id}/session/{session_id}",
        path_parameters={"tenant_id": "acme", "session_id": session_id},
    )
    transcript = invoke(load_handler("sessions"), event)

    assert transcript.status == 200, transcript.body
    user = transcript.body["messages"][0]
    assert user["role"] == "user"
    assert [a["upload_id"] for a in user["data"]["attachments"]] == [upload_id]
    assert user["data"]["attachments"][0]["filename"] == "invoice.png"
