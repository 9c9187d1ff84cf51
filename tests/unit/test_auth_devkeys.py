"""The development key pair in the state directory, and the token minter."""

from __future__ import annotations

import stat
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWK

from agenthub.auth.devkeys import ensure_dev_key_pair, mint_token, public_jwk, thumbprint


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_use_creates_a_private_key_only_the_owner_can_read(tmp_path: Path) -> None:
    pair = ensure_dev_key_pair(tmp_path)

    private = tmp_path / "jwt" / "private.pem"
    assert private.read_text() == pair.private_pem
    assert _mode(private) == 0o600
    assert _mode(tmp_path / "jwt") == 0o700
    assert (tmp_path / "jwt" / "public.pem").read_text() == pair.public_pem


def test_later_uses_return_the_same_pair(tmp_path: Path) -> None:
    first = ensure_dev_key_pair(tmp_path)

    assert ensure_dev_key_pair(tmp_path) == first


def test_loosened_private_key_permissions_are_tightened(tmp_path: Path) -> None:
    ensure_dev_key_pair(tmp_path)
    private = tmp_path / "jwt" / "private.pem"
    private.chmod(0o644)

    ensure_dev_key_pair(tmp_path)

    assert _mode(private) == 0o600


def test_public_key_file_is_rewritten_from_the_private_key(tmp_path: Path) -> None:
    pair = ensure_dev_key_pair(tmp_path)
    (tmp_path / "jwt" / "public.pem").write_text("stale")

    ensure_dev_key_pair(tmp_path)

    assert (tmp_path / "jwt" / "public.pem").read_text() == pair.public_pem


def test_key_pair_repr_hides_the_private_key(tmp_path: Path) -> None:
    pair = ensure_dev_key_pair(tmp_path)

    assert "PRIVATE KEY" not in repr(pair)


def test_kid_is_the_rfc7638_thumbprint() -> None:
    # The example key and thumbprint of RFC 7638, section 3.1.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
        "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
        "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    key = PyJWK({"kty": "RSA", "n": n, "e": "AQAB"}).key
    assert isinstance(key, rsa.RSAPublicKey)
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()

    assert thumbprint(pem) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_dev_pair_kid_is_its_public_key_thumbprint(tmp_path: Path) -> None:
    pair = ensure_dev_key_pair(tmp_path)

    assert pair.kid == thumbprint(pair.public_pem)


def test_public_jwk_is_the_same_key(tmp_path: Path) -> None:
    pair = ensure_dev_key_pair(tmp_path)

    jwk = public_jwk(pair.public_pem)
    restored = PyJWK(jwk).key

    assert jwk["kid"] == pair.kid
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    assert isinstance(restored, rsa.RSAPublicKey)
    assert (
        restored.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        == pair.public_pem
    )


def test_mint_token_sets_the_claims_and_kid(tmp_path: Path) -> None:
    pair = ensure_dev_key_pair(tmp_path)

    token = mint_token(
        private_key_pem=pair.private_pem,
        kid=pair.kid,
        tenant_id="acme",
        user_id="u-1",
        roles=["tenant_admin"],
        ttl_s=900,
        issuer="iss-x",
        audience="aud-x",
        extra_claims={"email": "u@acme.test"},
    )

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, pair.public_pem, algorithms=["RS256"], audience="aud-x")
    assert (header["alg"], header["kid"]) == ("RS256", pair.kid)
    assert claims["sub"] == "u-1"
    assert claims["tenant_id"] == "acme"
    assert claims["roles"] == ["tenant_admin"]
    assert claims["iss"] == "iss-x"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["email"] == "u@acme.test"


def test_extra_claims_override_the_defaults(tmp_path: Path) -> None:
    pair = ensure_dev_key_pair(tmp_path)

    token = mint_token(
        private_key_pem=pair.private_pem,
        kid=None,
        tenant_id="acme",
        user_id="u-1",
        issuer="i",
        audience="a",
        extra_claims={"iat": 1000, "exp": 2000},
    )

    claims = jwt.decode(token, options={"verify_signature": False})
    assert "kid" not in jwt.get_unverified_header(token)
    assert (claims["iat"], claims["exp"]) == (1000, 2000)


@pytest.mark.parametrize("ttl_s", [0, -60])
def test_mint_token_refuses_a_non_positive_lifetime(tmp_path: Path, ttl_s: int) -> None:
    pair = ensure_dev_key_pair(tmp_path)

    with pytest.raises(ValueError, match="ttl_s"):
        mint_token(
            private_key_pem=pair.private_pem,
            kid=pair.kid,
            tenant_id="acme",
            user_id="u-1",
            ttl_s=ttl_s,
            issuer="i",
            audience="a",
        )
