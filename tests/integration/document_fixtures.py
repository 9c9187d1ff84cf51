"""Fixtures for attachment tests: the uploads and chat handlers on a seeded database, moto S3."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.integration.storage_fixtures import FilesBucket
from tests.support.lambda_events import HttpResult, invoke, load_handler, rest_event

pytest_plugins = ["tests.integration.chat_fixtures"]


@pytest.fixture
def documents_env(
    seeded: None, files_bucket: FilesBucket, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FilesBucket]:
    """Seeded demo tenants (with the OCR agent) and a files bucket on moto's S3 server.

    The machine's two cores are shared with other test runs: OCR of one page can take several
    seconds under load, so the time limits are generous here (the limits have their own tests).
    """
    from agenthub import composition

    monkeypatch.setenv("AGENTHUB_OCR__TIMEOUT_S", "180")
    monkeypatch.setenv("AGENTHUB_LLM__TURN_TIMEOUT_S", "240")
    composition.reset()
    yield files_bucket


@pytest.fixture(scope="session")
def uploads_handler() -> ModuleType:
    return load_handler("uploads")


@dataclass
class Client:
    """One user of one tenant, talking to the uploads and chat handlers."""

    uploads_handler: ModuleType
    chat_handler: ModuleType
    token_for: Callable[..., str]
    tenant: str = "acme"
    user: str = "alice"

    def _token(self) -> str:
        return str(self.token_for(self.tenant, self.user))

    def request_upload(self, filename: str, content_type: str, size: int) -> HttpResult:
        event = rest_event(
            "POST",
            f"/api/{self.tenant}/uploads",
            body={"filename": filename, "content_type": content_type, "size": size},
            token=self._token(),
            resource="/api/{tenant_id}/uploads",
            path_parameters={"tenant_id": self.tenant},
        )
        return invoke(self.uploads_handler, event)

    def upload(
        self, data: bytes, *, filename: str = "invoice.png", content_type: str = "image/png"
    ) -> str:
        """Upload URL, then PUT to it (as a browser would): the upload id."""
        ticket = self.request_upload(filename, content_type, len(data))
        assert ticket.status == 201, ticket.body
        put = httpx.put(ticket.body["put_url"], content=data, headers=ticket.body["headers"])
        assert put.status_code == 200, put.text
        return str(ticket.body["upload_id"])

    def direct(
        self, data: bytes, *, filename: str = "invoice.png", content_type: str = "image/png"
    ) -> HttpResult:
        boundary = uuid.uuid4().hex
        body = (
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        event = rest_event(
            "POST",
            f"/api/{self.tenant}/uploads/direct",
            token=self._token(),
            resource="/api/{tenant_id}/uploads/direct",
            path_parameters={"tenant_id": self.tenant},
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        event["body"] = base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = True
        return invoke(self.uploads_handler, event)

    def chat(
        self,
        message: str,
        *,
        attachments: list[str] | None = None,
        session_id: str | None = None,
    ) -> HttpResult:
        body: dict[str, Any] = {"message": message}
        if attachments is not None:
            body["attachments"] = attachments
        if session_id is not None:
            body["session_id"] = session_id
        event = rest_event(
            "POST",
            f"/api/{self.tenant}/chat",
            body=body,
            token=self._token(),
            resource="/api/{tenant_id}/chat",
            path_parameters={"tenant_id": self.tenant},
        )
        return invoke(self.chat_handler, event)


@pytest.fixture
def client_for(
    documents_env: FilesBucket,
    uploads_handler: ModuleType,
    chat_handler: ModuleType,
    token_for: Callable[..., str],
) -> Callable[..., Client]:
    def make(tenant: str = "acme", user: str = "alice") -> Client:
        return Client(uploads_handler, chat_handler, token_for, tenant=tenant, user=user)

    return make
