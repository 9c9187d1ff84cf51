"""`/attach PATH` in the terminal client: upload URL, PUT, then the next message carries it."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx

from agenthub.cli.chat import ChatSession

UPLOAD_ID = "5b0e8d1c-0000-4000-8000-000000000001"
PUT_URL = "http://s3.test/files/tenant/acme/user/alice/uploads/x?X-Amz-Signature=abc"


class FakeStack:
    def __init__(self, *, ticket_status: int = 201) -> None:
        self.calls: list[tuple[str, str, dict[str, str], bytes]] = []
        self._ticket_status = ticket_status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(
            (request.method, str(request.url), dict(request.headers), request.content)
        )
        if request.url.path == "/api/acme/uploads":
            if self._ticket_status != 201:
                error = {"code": "payload_too_large", "message": "too big", "request_id": "r"}
                return httpx.Response(self._ticket_status, json={"error": error})
            return httpx.Response(
                201,
                json={
                    "upload_id": UPLOAD_ID,
                    "put_url": PUT_URL,
                    "expires_at": "2026-12-01T12:10:00Z",
                    "max_bytes": 4,
                    "headers": {"Content-Type": "image/png", "x-amz-tagging": "a=b"},
                },
            )
        if request.method == "PUT":
            return httpx.Response(200)
        answer: dict[str, Any] = {
            "session_id": "s1",
            "agent": "ocr",
            "format": "card",
            "renderer_hint": "card",
            "data": {"title": "Invoice 1", "fields": [{"label": "Total", "value": 5}]},
            "text": "Invoice 1.",
        }
        return httpx.Response(200, json=answer)


def _session(stack: FakeStack) -> tuple[ChatSession, io.StringIO]:
    out = io.StringIO()
    client = httpx.Client(base_url="http://gateway.test", transport=httpx.MockTransport(stack))
    return ChatSession(client, tenant_id="acme", token="tkn", out=out), out


def test_attach_uploads_the_file_and_the_next_message_sends_it(tmp_path: Path) -> None:
    stack = FakeStack()
    session, out = _session(stack)
    invoice = tmp_path / "invoice.png"
    invoice.write_bytes(b"\x89PNG")
    lines = iter([f"/attach {invoice}", "read this invoice", "and again"])

    def read(_: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    session.run(read)

    ticket, put, chat, second = stack.calls
    assert json.loads(ticket[3]) == {
        "filename": "invoice.png",
        "content_type": "image/png",
        "size": 4,
    }
    assert ticket[2]["authorization"] == "Bearer tkn"
    assert (put[0], put[1], put[3]) == ("PUT", PUT_URL, b"\x89PNG")
    assert "authorization" not in put[2] and put[2]["x-amz-tagging"] == "a=b"
    assert json.loads(chat[3])["attachments"] == [UPLOAD_ID]
    assert "attachments" not in json.loads(second[3])  # sent once
    assert "(attached invoice.png" in out.getvalue()


def test_attach_reports_a_missing_file_or_a_refused_upload(tmp_path: Path) -> None:
    session, _ = _session(FakeStack(ticket_status=413))
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF")

    assert session.attach(str(tmp_path / "nope.png")).startswith("error: cannot read")
    assert session.attach(str(big)) == "error: error 413 (payload_too_large): too big"
    assert session.attach("").startswith("usage: /attach PATH")
    assert session.attachments == []
