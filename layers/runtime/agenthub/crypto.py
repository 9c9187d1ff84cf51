"""Fernet encryption of stored secrets (tenant LLM API keys, tool credentials), with key rotation.

`MultiFernet`: the first key encrypts, every key decrypts, so a new key goes first, `agenthub keys
rotate` re-encrypts the stored values, and the old key is removed afterwards: no downtime.
Nothing here ever puts a key or a plaintext into a message, a repr or a log.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from agenthub.errors import ConfigurationError, DecryptionError

if TYPE_CHECKING:
    from agenthub.settings import Settings

LOCAL_KEY_FILE = "fernet.key"
_DECRYPT_FAILED = (
    "cannot decrypt a stored secret with the configured Fernet keys (was the key rotated out?)"
)
# A well-known, non-secret key prefix such as "sk-", "gsk_" or "xai-" may be shown in a hint.
_KEY_PREFIX = re.compile(r"^[A-Za-z]{2,4}[-_]")
_MIN_LENGTH_FOR_TAIL = 12


class KeyRing:
    """The configured Fernet keys; `encrypt` uses the first, `decrypt` tries them all."""

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ConfigurationError("at least one Fernet key is required")
        fernets = [_fernet(key, position=index) for index, key in enumerate(keys)]
        self._multi = MultiFernet(fernets)
        self._primary_fingerprint = fingerprint(keys[0])
        self._size = len(fernets)

    @property
    def primary_fingerprint(self) -> str:
        """A short, non-secret id of the encrypting key (safe to print and log)."""
        return self._primary_fingerprint

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"KeyRing(keys={self._size}, primary={self._primary_fingerprint})"

    def encrypt(self, plaintext: str) -> bytes:
        return self._multi.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes | str) -> SecretStr:
        try:
            return SecretStr(self._multi.decrypt(token).decode("utf-8"))
        except (InvalidToken, UnicodeDecodeError, TypeError) as exc:
            raise DecryptionError(_DECRYPT_FAILED) from exc

    def rotate(self, token: bytes | str) -> bytes:
        """The same plaintext, re-encrypted under the first key."""
        try:
            return self._multi.rotate(token)
        except (InvalidToken, TypeError) as exc:
            raise DecryptionError(_DECRYPT_FAILED) from exc


def fingerprint(key: str | bytes) -> str:
    """12 hex chars of SHA-256 of the key: identifies a key without revealing it."""
    raw = key.encode("ascii") if isinstance(key, str) else key
    return hashlib.sha256(raw.strip()).hexdigest()[:12]


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def keyring_from_settings(settings: Settings) -> KeyRing:
    """Keys from `crypto.fernet_keys` (environment or Secrets Manager); in local mode without
    any, a key generated once into `state_dir/fernet.key` (mode 0600) and reused."""
    keys = [key.get_secret_value() for key in settings.crypto.fernet_keys]
    if keys:
        return KeyRing(keys)
    if not settings.is_local:
        raise ConfigurationError(
            "no Fernet key configured: set AGENTHUB_CRYPTO__FERNET_KEYS or a secret with "
            "crypto__fernet_keys (generate one with `agenthub keys generate`)"
        )
    return KeyRing([local_key(Path(settings.state_dir) / LOCAL_KEY_FILE)])


def local_key(path: Path) -> str:
    """The key stored at `path`, created (0600, atomically) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _create_exclusively(path, generate_key())
    key = path.read_text(encoding="ascii").strip()
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise ConfigurationError(f"the local Fernet key file {path} holds no valid key") from None
    return key


def _create_exclusively(path: Path, key: str) -> None:
    # Write a private temp file, then link it into place: a concurrent reader never sees a
    # half-written file, and when two processes race the first link wins and both use its key.
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".fernet-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
        os.chmod(temp_name, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(temp_name, path)
    finally:
        os.unlink(temp_name)


def mask_secret(value: str) -> str:
    """A display hint such as "sk-…abcd": at most a well-known prefix and the last 4 chars."""
    value = value.strip()
    if not value:
        return ""
    if len(value) < _MIN_LENGTH_FOR_TAIL:
        return "…"  # too short to show any of it safely
    prefix_match = _KEY_PREFIX.match(value)
    prefix = prefix_match.group(0) if prefix_match else ""
    return f"{prefix}…{value[-4:]}"


def _fernet(key: str | bytes, *, position: int) -> Fernet:
    try:
        return Fernet(key.strip())
    except (ValueError, TypeError):
        # binascii.Error is a ValueError. Name the position, never the value (nor chain it).
        raise ConfigurationError(
            f"Fernet key #{position + 1} of the configured keys is not a valid key "
            "(32 url-safe base64-encoded bytes expected)"
        ) from None
