"""The development RSA key pair (local mode only) and a token minter for it and for tests.

The pair lives in `<state_dir>/jwt/`: `private.pem` (mode 0600) and `public.pem`. It is created
on first use; the private key file is the source of truth, the public key is derived from it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ALGORITHM = "RS256"
KEY_DIR_NAME = "jwt"
PRIVATE_KEY_FILE = "private.pem"
PUBLIC_KEY_FILE = "public.pem"
_KEY_SIZE = 2048


@dataclass(frozen=True)
class DevKeyPair:
    private_pem: str = field(repr=False)
    public_pem: str
    kid: str


def dev_key_dir(state_dir: Path) -> Path:
    return state_dir / KEY_DIR_NAME


def ensure_dev_key_pair(state_dir: Path) -> DevKeyPair:
    """Load the development key pair from the state directory, creating it on first use."""
    key_dir = dev_key_dir(state_dir)
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_path = key_dir / PRIVATE_KEY_FILE
    if not private_path.exists():
        _create_private_key(private_path)
    private_path.chmod(0o600)  # tighten a copy restored with looser permissions
    private_pem = private_path.read_text()
    public_pem = public_pem_of(private_pem)
    public_path = key_dir / PUBLIC_KEY_FILE
    if not public_path.exists() or public_path.read_text() != public_pem:
        public_path.write_text(public_pem)
    return DevKeyPair(private_pem=private_pem, public_pem=public_pem, kid=thumbprint(public_pem))


def _create_private_key(path: Path) -> None:
    """Write a new key without ever exposing it: 0600 from birth, published atomically.

    `os.link` fails when the file already exists, so two processes racing on first use end up
    sharing whichever key was linked first.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_SIZE)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".private-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp creates the file with mode 0600
            handle.write(pem)
        with contextlib.suppress(FileExistsError):  # another process won the race
            os.link(temp_name, path)
    finally:
        os.unlink(temp_name)


def public_pem_of(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _rsa_public_key(public_pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(public_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("expected an RSA public key")
    return key


def thumbprint(public_pem: str) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key."""
    numbers = _rsa_public_key(public_pem).public_numbers()
    # RFC 7638 section 3.2: required members only, sorted, no whitespace.
    canonical = json.dumps(
        {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)},
        separators=(",", ":"),
        sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def public_jwk(public_pem: str, *, kid: str | None = None) -> dict[str, str]:
    """The public key as a JWK for a JWKS document (`kid` defaults to the thumbprint)."""
    numbers = _rsa_public_key(public_pem).public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "alg": ALGORITHM,
        "kid": kid or thumbprint(public_pem),
        "n": _b64url_uint(numbers.n),
        "e": _b64url_uint(numbers.e),
    }


def mint_token(
    *,
    private_key_pem: str,
    kid: str | None,
    tenant_id: str,
    user_id: str,
    roles: Sequence[str] = (),
    ttl_s: int = 3600,
    issuer: str,
    audience: str,
    extra_claims: Mapping[str, Any] | None = None,
    issued_at: int | None = None,
) -> str:
    """An RS256 token for `user_id` of `tenant_id`; `extra_claims` are applied last."""
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    now = int(time.time()) if issued_at is None else issued_at
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": user_id,
        "tenant_id": tenant_id,
        "roles": list(roles),
        "iat": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    claims.update(extra_claims or {})
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, private_key_pem, algorithm=ALGORITHM, headers=headers)
