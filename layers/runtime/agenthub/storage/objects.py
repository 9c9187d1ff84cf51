"""Tenant files in S3: one bucket, every key under `tenant/{tenant_id}/`.

The store receives its boto3 S3 client (built once per container by the composition root) and
the bucket name. Keys are always made here from a verified tenant id, never taken from a caller,
so one tenant's files cannot be addressed from another tenant's request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from agenthub.errors import (
    ConfigurationError,
    NotFoundError,
    PayloadTooLargeError,
    StorageError,
)

# The same rule as tenant ids in the database; a key segment may not escape its prefix.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _segment(value: str, what: str) -> str:
    if not _SEGMENT.fullmatch(value) or ".." in value:
        raise ValueError(f"{what} {value!r} is not a safe key segment")
    return value


def tenant_prefix(tenant_id: str) -> str:
    """`tenant/{tenant_id}/`: everything a tenant owns lives below it."""
    return f"tenant/{_segment(tenant_id, 'tenant id')}/"


def tenant_key(tenant_id: str, *parts: str) -> str:
    """A key under the tenant's prefix, e.g. `tenant/acme/kb/<kb>/<doc>`."""
    return tenant_prefix(tenant_id) + "/".join(_segment(p, "key part") for p in parts)


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class PresignedPut:
    url: str
    key: str
    expires_at: datetime
    max_bytes: int
    # Headers the client must send with its PUT (they are part of the signature).
    headers: dict[str, str]


class ObjectStore:
    """S3 operations on the files bucket; driver errors become `StorageError`."""

    def __init__(self, client: Any, bucket: str | None) -> None:
        self._client = client
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        if not self._bucket:
            raise ConfigurationError("no files bucket is configured (AGENTHUB_AWS__FILES_BUCKET)")
        return self._bucket

    def _check_key(self, tenant_id: str, key: str) -> None:
        if not key.startswith(tenant_prefix(tenant_id)) or ".." in key:
            raise NotFoundError("file not found")

    def put(
        self,
        *,
        tenant_id: str,
        key: str,
        body: bytes,
        content_type: str,
        tags: dict[str, str] | None = None,
    ) -> None:
        self._check_key(tenant_id, key)
        extra = {"Tagging": urlencode(tags)} if tags else {}
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ServerSideEncryption="AES256",
                **extra,
            )
        except Exception as exc:
            raise StorageError("the file could not be stored") from exc

    def get(self, *, tenant_id: str, key: str, max_bytes: int) -> StoredObject:
        """The object's bytes; larger than `max_bytes` is refused without reading it all."""
        self._check_key(tenant_id, key)
        head = self.head(tenant_id=tenant_id, key=key)
        if head is None:
            raise NotFoundError("file not found")
        size, content_type = head
        if size > max_bytes:
            raise PayloadTooLargeError(f"the file is larger than {max_bytes} bytes")
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            body = response["Body"].read(max_bytes + 1)
        except Exception as exc:
            raise StorageError("the file could not be read") from exc
        if len(body) > max_bytes:
            raise PayloadTooLargeError(f"the file is larger than {max_bytes} bytes")
        return StoredObject(key=key, size=len(body), content_type=content_type, body=body)

    def head(self, *, tenant_id: str, key: str) -> tuple[int, str] | None:
        """(size, content type) of an object, or None when it does not exist."""
        self._check_key(tenant_id, key)
        try:
            response = self._client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise StorageError("the file could not be read") from exc
        return int(response["ContentLength"]), str(response.get("ContentType") or "")

    def set_tags(self, *, tenant_id: str, key: str, tags: dict[str, str]) -> None:
        """Replace the object's tags (lifecycle rules select objects by tag)."""
        self._check_key(tenant_id, key)
        tag_set = [{"Key": k, "Value": v} for k, v in tags.items()]
        try:
            self._client.put_object_tagging(
                Bucket=self.bucket, Key=key, Tagging={"TagSet": tag_set}
            )
        except Exception as exc:
            raise StorageError("the file could not be updated") from exc

    def delete(self, *, tenant_id: str, key: str) -> None:
        self._check_key(tenant_id, key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise StorageError("the file could not be deleted") from exc

    def delete_prefix(self, *, tenant_id: str, prefix: str) -> int:
        """Delete every object under `prefix` (itself under the tenant's prefix); the count."""
        self._check_key(tenant_id, prefix)
        deleted = 0
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
                    deleted += len(keys)
        except Exception as exc:
            raise StorageError("the files could not be deleted") from exc
        return deleted

    def tenant_ids_with_files(self) -> list[str]:
        """The tenant ids that have at least one object (for sweeping deleted tenants)."""
        found: list[str] = []
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix="tenant/", Delimiter="/"):
                for prefix in page.get("CommonPrefixes", []):
                    tenant_id = str(prefix["Prefix"]).removeprefix("tenant/").rstrip("/")
                    if _SEGMENT.fullmatch(tenant_id):
                        found.append(tenant_id)
        except Exception as exc:
            raise StorageError("the files could not be listed") from exc
        return sorted(found)

    def presign_put(
        self,
        *,
        tenant_id: str,
        key: str,
        content_type: str,
        size: int,
        expires_s: int = 600,
        tags: dict[str, str] | None = None,
    ) -> PresignedPut:
        """A presigned PUT whose signature binds the content type and the exact length (and
        the tags, when given: the client must send them as the `x-amz-tagging` header)."""
        self._check_key(tenant_id, key)
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "ContentType": content_type,
            "ContentLength": size,
            "ServerSideEncryption": "AES256",
        }
        if tags:
            params["Tagging"] = urlencode(tags)
        try:
            url = self._client.generate_presigned_url(
                "put_object",
                Params=params,
                ExpiresIn=expires_s,
                HttpMethod="PUT",
            )
        except Exception as exc:
            raise StorageError("an upload URL could not be made") from exc
        return PresignedPut(
            url=str(url),
            key=key,
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_s),
            max_bytes=size,
            headers={
                "Content-Type": content_type,
                "Content-Length": str(size),
                "x-amz-server-side-encryption": "AES256",
                **({"x-amz-tagging": params["Tagging"]} if tags else {}),
            },
        )


def _is_missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}
