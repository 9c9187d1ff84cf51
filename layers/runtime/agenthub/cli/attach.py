"""`/attach PATH` in `agenthub chat`: upload a file for the next message (upload URL, then PUT)."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
}


@dataclass(frozen=True)
class Attached:
    upload_id: str
    filename: str


class AttachError(Exception):
    """Why the file could not be attached, as the user should read it."""


def upload_file(client: Any, *, tenant_id: str, token: str, path: Path) -> Attached:
    """Ask the API for an upload URL and PUT the file there; the upload id to send."""
    import httpx

    path = path.expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AttachError(f"cannot read {path}: {exc.strerror}") from None
    content_type = _TYPES.get(path.suffix.lower()) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    auth = {"Authorization": f"Bearer {token}"}
    try:
        ticket = client.post(
            f"/api/{tenant_id}/uploads",
            json={"filename": path.name, "content_type": content_type, "size": len(data)},
            headers=auth,
        )
        body = ticket.json()
        if ticket.status_code != 201:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise AttachError(
                f"error {ticket.status_code} ({error.get('code')}): {error.get('message')}"
            )
        # An absolute URL: the client sends it to S3, not to the API (and without the token).
        put = client.put(body["put_url"], content=data, headers=body["headers"])
    except httpx.HTTPError as exc:
        raise AttachError(f"cannot upload {path.name} ({type(exc).__name__})") from None
    except ValueError:
        raise AttachError("the API answered with something that is not JSON") from None
    if put.status_code not in (200, 204):
        raise AttachError(f"the upload of {path.name} failed with HTTP {put.status_code}")
    return Attached(upload_id=str(body["upload_id"]), filename=path.name)
