"""KeyRing (MultiFernet), keys from settings, and secret hints."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from agenthub.crypto import (
    KeyRing,
    fingerprint,
    generate_key,
    keyring_from_settings,
    mask_secret,
)
from agenthub.errors import ConfigurationError, DecryptionError
from agenthub.settings import CryptoSettings, Settings

PLAINTEXT = "sk-live-0123456789abcdef"


def _settings(tmp_path: Path, *, env: str = "local", keys: list[str] | None = None) -> Settings:
    # model_construct: no environment, no validation (the prod validator is tested elsewhere).
    return Settings.model_construct(
        env=env,
        state_dir=tmp_path / "state",
        crypto=CryptoSettings(fernet_keys=[SecretStr(k) for k in keys or []]),
    )


def test_encrypt_then_decrypt_round_trips_as_a_secret() -> None:
    ring = KeyRing([generate_key()])
    token = ring.encrypt(PLAINTEXT)
    assert PLAINTEXT.encode() not in token
    decrypted = ring.decrypt(token)
    assert isinstance(decrypted, SecretStr)
    assert decrypted.get_secret_value() == PLAINTEXT
    assert ring.decrypt(token.decode()).get_secret_value() == PLAINTEXT


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old, new = generate_key(), generate_key()
    old_token = KeyRing([old]).encrypt(PLAINTEXT)
    ring = KeyRing([new, old])
    assert ring.decrypt(old_token).get_secret_value() == PLAINTEXT
    fresh = ring.encrypt(PLAINTEXT)
    assert KeyRing([new]).decrypt(fresh).get_secret_value() == PLAINTEXT
    with pytest.raises(DecryptionError):
        KeyRing([old]).decrypt(fresh)


def test_rotate_re_encrypts_under_the_first_key() -> None:
    old, new = generate_key(), generate_key()
    old_token = KeyRing([old]).encrypt(PLAINTEXT)
    rotated = KeyRing([new, old]).rotate(old_token)
    assert KeyRing([new]).decrypt(rotated).get_secret_value() == PLAINTEXT
    with pytest.raises(DecryptionError):
        KeyRing([old]).decrypt(rotated)


@pytest.mark.parametrize("token", [b"not-a-token", b"", "gAAAAAB-tampered"])
def test_an_undecryptable_token_gives_a_clear_error_without_the_value(token: bytes | str) -> None:
    ring = KeyRing([generate_key()])
    with pytest.raises(DecryptionError, match="was the key rotated out") as raised:
        ring.decrypt(token)
    assert str(token) not in raised.value.message
    with pytest.raises(DecryptionError):
        ring.rotate(token)


def test_a_token_from_a_removed_key_does_not_decrypt() -> None:
    token = KeyRing([generate_key()]).encrypt(PLAINTEXT)
    with pytest.raises(DecryptionError) as raised:
        KeyRing([generate_key()]).decrypt(token)
    assert PLAINTEXT not in str(raised.value)


def test_an_invalid_key_is_named_by_position_never_by_value() -> None:
    bad = "this-is-not-a-fernet-key"
    with pytest.raises(ConfigurationError, match="#2") as raised:
        KeyRing([generate_key(), bad])
    assert bad not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_an_empty_keyring_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        KeyRing([])


def test_fingerprint_is_short_stable_and_reveals_nothing() -> None:
    key = generate_key()
    ring = KeyRing([key, generate_key()])
    assert ring.primary_fingerprint == fingerprint(key) == fingerprint(key.encode())
    assert len(ring.primary_fingerprint) == 12
    assert ring.primary_fingerprint not in key
    assert key not in repr(ring) and ring.primary_fingerprint in repr(ring)
    assert len(ring) == 2
    assert fingerprint(generate_key()) != ring.primary_fingerprint


def test_keys_come_from_settings_in_order(tmp_path: Path) -> None:
    new, old = generate_key(), generate_key()
    ring = keyring_from_settings(_settings(tmp_path, env="prod", keys=[new, old]))
    assert ring.primary_fingerprint == fingerprint(new)
    assert not (tmp_path / "state").exists()  # no local key file when keys are configured


def test_settings_keys_from_the_environment_are_split_on_commas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new, old = generate_key(), generate_key()
    monkeypatch.setenv("AGENTHUB_CRYPTO__FERNET_KEYS", f"{new}, {old}")
    ring = keyring_from_settings(Settings(env="test", state_dir=tmp_path))
    assert (ring.primary_fingerprint, len(ring)) == (fingerprint(new), 2)


def test_outside_local_mode_missing_keys_are_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="AGENTHUB_CRYPTO__FERNET_KEYS"):
        keyring_from_settings(_settings(tmp_path, env="prod"))
    assert not (tmp_path / "state").exists()


def test_local_mode_generates_a_private_key_file_once_and_reuses_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path, env="local")
    # WHEN the local stack starts twice without a configured key
    first = keyring_from_settings(settings)
    token = first.encrypt(PLAINTEXT)
    second = keyring_from_settings(settings)
    # THEN the same generated key is used, and only its owner can read it
    key_file = tmp_path / "state" / "fernet.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert second.primary_fingerprint == first.primary_fingerprint
    assert second.decrypt(token).get_secret_value() == PLAINTEXT
    Fernet(key_file.read_text().strip())  # a valid key
    assert list(key_file.parent.iterdir()) == [key_file]  # no temp file left behind


def test_a_corrupt_local_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    key_file = tmp_path / "state" / "fernet.key"
    key_file.parent.mkdir(parents=True)
    key_file.write_text("garbage\n")
    with pytest.raises(ConfigurationError, match=r"fernet\.key") as raised:
        keyring_from_settings(_settings(tmp_path, env="local"))
    assert "garbage" not in str(raised.value)


@pytest.mark.parametrize(
    ("secret", "hint"),
    [
        ("sk-proj-abcdefghijklmnopWXYZ", "sk-…WXYZ"),
        ("gsk_0123456789abcdefghij9876", "gsk_…9876"),
        ("AKIA0123456789ABCDEF", "…CDEF"),
        ("  sk-abcdefghijkl1234  ", "sk-…1234"),
        ("short-key", "…"),
        ("", ""),
    ],
)
def test_mask_secret_shows_at_most_a_known_prefix_and_the_last_four(secret: str, hint: str) -> None:
    assert mask_secret(secret) == hint
    assert len(hint) <= 20  # fits tenant_llm_configs.api_key_hint
