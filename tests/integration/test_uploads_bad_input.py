"""Uploads and attachments refuse bad input with a clear JSON 4xx and change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from tests.support.documents import encrypted_pdf, invoice_png, pixel_bomb_png

if TYPE_CHECKING:
    from tests.integration.document_fixtures import Client
    from tests.integration.storage_fixtures import FilesBucket

pytest_plugins = ["tests.integration.document_fixtures"]

ClientFor = Callable[..., "Client"]


def _counts() -> tuple[int, int]:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Message, Upload

    with get_sessionmaker()() as db:
        return (
            db.scalar(select(func.count()).select_from(Upload)) or 0,
            db.scalar(select(func.count()).select_from(Message)) or 0,
        )


def _objects(bucket: FilesBucket) -> list[str]:
    listed = bucket.client.list_objects_v2(Bucket=bucket.name)
    return [item["Key"] for item in listed.get("Contents", [])]


def _error(body: Any) -> dict[str, Any]:
    assert set(body) == {"error"}, body
    assert body["error"]["request_id"]
    error: dict[str, Any] = body["error"]
    return error


# ----------------------------------------------------------------------------- upload URLs


@pytest.mark.parametrize(
    ("filename", "content_type", "size", "status", "words"),
    [
        ("invoice.png", "image/png", 0, 422, "empty"),
        ("invoice.png", "image/png", 50 * 1024 * 1024, 413, "at most"),
        ("notes.exe", "application/x-msdownload", 1000, 422, "not accepted"),
        ("   ", "image/png", 1000, 422, "blank"),
    ],
    ids=["zero-bytes", "oversize", "unaccepted-type", "blank-name"],
)
def test_a_bad_upload_request_is_refused_and_nothing_is_created(
    client_for: ClientFor,
    documents_env: FilesBucket,
    filename: str,
    content_type: str,
    size: int,
    status: int,
    words: str,
) -> None:
    result = client_for().request_upload(filename, content_type, size)

    assert result.status == status, result.body
    assert words in _error(result.body)["message"]
    assert _counts() == (0, 0)
    assert _objects(documents_env) == []


def test_the_upload_url_signs_the_size_type_and_tags(client_for: ClientFor) -> None:
    # S3 refuses a PUT whose signed headers differ (moto does not check signatures, so the test
    # checks what is signed).
    ticket = client_for().request_upload("invoice.png", "image/png", 1000)

    assert ticket.status == 201, ticket.body
    query = parse_qs(urlsplit(ticket.body["put_url"]).query)
    signed = query["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-length", "content-type", "x-amz-tagging"} <= set(signed)
    assert query["X-Amz-Expires"] == ["600"]
    assert ticket.body["max_bytes"] == 1000
    assert ticket.body["headers"]["Content-Length"] == "1000"
    assert ticket.body["headers"]["x-amz-tagging"] == "agenthub-upload=pending"


# ----------------------------------------------------------------------------- direct uploads


@pytest.mark.parametrize(
    ("data", "content_type", "status", "words"),
    [
        (b"", "image/png", 422, "empty"),
        (b"%PDF-1.7\n...", "image/png", 422, "not the declared image/png"),
        (b"MZ\x90\x00 not an image", "image/png", 422, "not a supported document"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024), "image/png", 413, "larger than"),
    ],
    ids=["zero-bytes", "pdf-declared-as-png", "executable", "over-5-mb"],
)
def test_a_bad_direct_upload_is_refused_and_nothing_is_stored(
    client_for: ClientFor,
    documents_env: FilesBucket,
    data: bytes,
    content_type: str,
    status: int,
    words: str,
) -> None:
    result = client_for().direct(data, content_type=content_type)

    assert result.status == status, result.body
    assert words in _error(result.body)["message"]
    assert _counts() == (0, 0)
    assert _objects(documents_env) == []


# ----------------------------------------------------------------------------- attachments


def test_another_users_upload_is_not_found(client_for: ClientFor) -> None:
    upload_id = client_for(user="alice").upload(invoice_png())

    result = client_for(user="bob").chat("read this invoice", attachments=[upload_id])

    assert result.status == 404, result.body
    assert upload_id in _error(result.body)["message"]
    assert _counts() == (1, 0)


def test_another_tenants_upload_is_not_found(client_for: ClientFor) -> None:
    upload_id = client_for(tenant="acme", user="alice").upload(invoice_png())

    result = client_for(tenant="globex", user="alice").chat(
        "read this invoice", attachments=[upload_id]
    )

    assert result.status == 404, result.body
    assert _counts() == (1, 0)


def test_an_unknown_upload_is_not_found(client_for: ClientFor) -> None:
    result = client_for().chat("read this invoice", attachments=[str(uuid.uuid4())])

    assert result.status == 404, result.body
    assert _counts() == (0, 0)


def test_more_than_five_attachments_are_refused(client_for: ClientFor) -> None:
    result = client_for().chat("read these", attachments=[str(uuid.uuid4()) for _ in range(6)])

    assert result.status == 422, result.body
    assert "attachments" in str(_error(result.body))
    assert _counts() == (0, 0)


def test_an_upload_whose_file_never_arrived_is_refused(client_for: ClientFor) -> None:
    alice = client_for()
    ticket = alice.request_upload("invoice.png", "image/png", 1000)

    result = alice.chat("read this invoice", attachments=[ticket.body["upload_id"]])

    assert result.status == 422, result.body
    assert "no file yet" in _error(result.body)["message"]
    assert _counts() == (1, 0)


def test_an_expired_upload_is_refused(client_for: ClientFor) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.db.models import Upload

    alice = client_for()
    ticket = alice.request_upload("invoice.png", "image/png", 1000)
    with transaction(get_sessionmaker()) as db:
        upload = db.get(Upload, uuid.UUID(ticket.body["upload_id"]))
        assert upload is not None
        upload.expires_at = datetime.now(UTC) - timedelta(seconds=1)

    result = alice.chat("read this invoice", attachments=[ticket.body["upload_id"]])

    assert result.status == 422, result.body
    assert "expired" in _error(result.body)["message"]


def test_a_presigned_file_not_matching_its_type_is_rejected_and_deleted(
    client_for: ClientFor, documents_env: FilesBucket
) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Upload

    alice = client_for()
    # Declared a PNG, the bytes are a PDF: the signature binds the header, not the content.
    upload_id = alice.upload(encrypted_pdf(), content_type="image/png")

    result = alice.chat("read this invoice", attachments=[upload_id])

    assert result.status == 422, result.body
    assert "not the declared image/png" in _error(result.body)["message"]
    assert _objects(documents_env) == []
    with get_sessionmaker()() as db:
        upload = db.get(Upload, uuid.UUID(upload_id))
        assert upload is not None and upload.status == "rejected"
    again = alice.chat("read this invoice", attachments=[upload_id])
    assert again.status == 422 and "rejected" in again.body["error"]["message"]
    assert _counts()[1] == 0


def test_an_upload_sent_in_one_conversation_cannot_join_another(client_for: ClientFor) -> None:
    alice = client_for()
    upload_id = alice.upload(invoice_png())
    first = alice.chat("read this invoice", attachments=[upload_id])
    assert first.status == 200

    other = alice.chat("read this invoice", attachments=[upload_id])

    assert other.status == 409, other.body


# ----------------------------------------------------------------------------- unreadable files


def _ask(alice: Client, data: bytes, content_type: str, filename: str) -> dict[str, Any]:
    upload = alice.direct(data, filename=filename, content_type=content_type)
    assert upload.status == 201, upload.body
    result = alice.chat("read this invoice", attachments=[upload.body["upload_id"]])
    assert result.status == 200, result.body
    body: dict[str, Any] = result.body
    return body


def test_an_encrypted_pdf_gets_an_answer_that_explains_it(client_for: ClientFor) -> None:
    body = _ask(client_for(), encrypted_pdf(), "application/pdf", "locked.pdf")

    assert body["agent"] == "ocr"
    assert "encrypted" in body["text"] and "locked.pdf" in body["text"]
    assert body["data"] is None


def test_a_corrupt_pdf_gets_an_answer_that_explains_it(client_for: ClientFor) -> None:
    body = _ask(client_for(), b"%PDF-1.4\n%%EOF garbage", "application/pdf", "broken.pdf")

    assert "damaged" in body["text"]


def test_a_decompression_bomb_gets_an_answer_that_explains_it(client_for: ClientFor) -> None:
    body = _ask(client_for(), pixel_bomb_png(), "image/png", "bomb.png")

    assert "too large" in body["text"]


def test_too_many_pages_get_an_answer_that_explains_it(
    client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agenthub import composition
    from tests.support.documents import INVOICE_LINES, draw_page, scanned_pdf

    monkeypatch.setenv("AGENTHUB_OCR__MAX_PAGES", "1")
    composition.reset()
    page = draw_page(INVOICE_LINES)

    body = _ask(client_for(), scanned_pdf(page, page), "application/pdf", "two.pdf")

    assert "2 pages" in body["text"] and "at most 1" in body["text"]
