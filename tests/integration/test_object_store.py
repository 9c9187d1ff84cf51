"""The files bucket adapter on a real S3 endpoint (moto's server): keys stay under the tenant."""

from __future__ import annotations

import httpx
import pytest

from agenthub.errors import NotFoundError, PayloadTooLargeError
from agenthub.storage.objects import ObjectStore, tenant_key, tenant_prefix
from tests.integration.storage_fixtures import FilesBucket


def _store() -> ObjectStore:
    from agenthub import composition

    return composition.get_object_store()


def test_a_file_is_stored_encrypted_and_read_back(files_bucket: FilesBucket) -> None:
    key = tenant_key("acme", "kb", "policies", "doc-1")
    body = b"payment terms: 30 days"
    _store().put(tenant_id="acme", key=key, body=body, content_type="text/plain")

    stored = _store().get(tenant_id="acme", key=key, max_bytes=1000)

    assert stored.body == b"payment terms: 30 days"
    assert stored.content_type == "text/plain"
    head = files_bucket.client.head_object(Bucket=files_bucket.name, Key=key)
    assert head["ServerSideEncryption"] == "AES256"


def test_another_tenants_key_is_not_found_without_touching_s3(files_bucket: FilesBucket) -> None:
    key = tenant_key("acme", "secret.txt")
    _store().put(tenant_id="acme", key=key, body=b"acme only", content_type="text/plain")

    with pytest.raises(NotFoundError):
        _store().get(tenant_id="globex", key=key, max_bytes=1000)
    with pytest.raises(NotFoundError):
        _store().delete(tenant_id="globex", key=key)
    assert _store().head(tenant_id="acme", key=key) == (9, "text/plain")


def test_a_file_larger_than_the_limit_is_refused(files_bucket: FilesBucket) -> None:
    key = tenant_key("acme", "big.bin")
    _store().put(tenant_id="acme", key=key, body=b"x" * 100, content_type="application/pdf")

    with pytest.raises(PayloadTooLargeError):
        _store().get(tenant_id="acme", key=key, max_bytes=99)


def test_delete_prefix_removes_only_that_tenants_files(files_bucket: FilesBucket) -> None:
    for tenant in ("acme", "globex"):
        for n in range(3):
            key = tenant_key(tenant, "user", "u1", f"f{n}")
            _store().put(tenant_id=tenant, key=key, body=b"x", content_type="text/plain")

    deleted = _store().delete_prefix(tenant_id="acme", prefix=tenant_prefix("acme"))

    assert deleted == 3
    left = files_bucket.client.list_objects_v2(Bucket=files_bucket.name)["Contents"]
    assert sorted(o["Key"] for o in left) == [f"tenant/globex/user/u1/f{n}" for n in range(3)]


def test_a_presigned_put_uploads_with_the_signed_type_and_length(files_bucket: FilesBucket) -> None:
    key = tenant_key("acme", "user", "alice", "upload-1")
    body = b"%PDF-1.4 tiny"
    signed = _store().presign_put(
        tenant_id="acme", key=key, content_type="application/pdf", size=len(body)
    )

    response = httpx.put(signed.url, content=body, headers=signed.headers)

    assert response.status_code == 200
    assert _store().head(tenant_id="acme", key=key) == (len(body), "application/pdf")
    assert signed.max_bytes == len(body)


def test_a_missing_file_is_not_found(files_bucket: FilesBucket) -> None:
    assert _store().head(tenant_id="acme", key=tenant_key("acme", "nothing")) is None
    with pytest.raises(NotFoundError):
        _store().get(tenant_id="acme", key=tenant_key("acme", "nothing"), max_bytes=10)


def test_a_key_segment_cannot_escape_the_tenant_prefix() -> None:
    with pytest.raises(ValueError):
        tenant_key("acme", "..", "globex")
    with pytest.raises(ValueError):
        tenant_prefix("../globex")
