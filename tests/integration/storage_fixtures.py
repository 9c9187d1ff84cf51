"""`files_bucket`: a real S3 endpoint (moto's server on a loopback port) with the files bucket.

Registered for every test by tests/conftest.py. The server speaks S3 over
HTTP, so presigned URLs can be used with a plain HTTP client as a browser would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest


@dataclass(frozen=True)
class FilesBucket:
    endpoint_url: str
    name: str
    client: Any


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    from agenthub.embedded import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def files_bucket(
    base_env: None, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str
) -> Iterator[FilesBucket]:
    """A fresh bucket configured as AGENTHUB_AWS__FILES_BUCKET on the local S3 endpoint."""
    from agenthub import composition

    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AGENTHUB_AWS__ENDPOINT_URL", moto_endpoint)
    name = f"agenthub-files-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    monkeypatch.setenv("AGENTHUB_AWS__FILES_BUCKET", name)
    composition.reset()
    yield FilesBucket(endpoint_url=moto_endpoint, name=name, client=client)
    composition.reset()
