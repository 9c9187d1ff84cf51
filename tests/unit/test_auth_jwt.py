"""JwtVerifier: where its key comes from, what a Principal holds, how key sources fail."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError
from jwt.warnings import InsecureKeyLengthWarning

from agenthub import composition
from agenthub.auth import JwtVerifier, ensure_dev_key_pair, mint_token, public_jwk
from agenthub.auth.jwt import TENANT_ID_PATTERN
from agenthub.auth.keys import JwksKeySource, StaticKeySource
from agenthub.composition import get_jwt_verifier as get_verifier
from agenthub.errors import AuthenticationError, ConfigurationError, ServiceUnavailableError
from agenthub.settings import Settings, get_settings
from tests.conftest import TEST_AUDIENCE, TEST_ISSUER


@pytest.fixture(scope="module")
def private_pem(rsa_private_key: rsa.RSAPrivateKey) -> str:
    return rsa_private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def token_for(private_pem: str, *, kid: str | None = None, **kwargs: Any) -> str:
    fields: dict[str, Any] = {"tenant_id": "acme", "user_id": "u-1"} | kwargs
    return mint_token(
        private_key_pem=private_pem,
        kid=kid,
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
        **fields,
    )


def verifier_with(key_source: Any) -> JwtVerifier:
    return JwtVerifier(key_source=key_source, issuer=TEST_ISSUER, audience=TEST_AUDIENCE)


def public_pem_of(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


# --- the principal ------------------------------------------------------------------------------


def test_principal_carries_identity_roles_claims_and_the_raw_token(
    base_env: None, private_pem: str
) -> None:
    token = token_for(private_pem, roles=["tenant_admin"], extra_claims={"email": "a@acme.test"})

    principal = get_verifier().verify(token)

    assert (principal.user_id, principal.tenant_id) == ("u-1", "acme")
    assert principal.roles == frozenset({"tenant_admin"})
    assert principal.is_tenant_admin and not principal.is_platform_admin
    assert principal.claims["email"] == "a@acme.test"
    assert principal.token.get_secret_value() == token


def test_principal_repr_never_shows_the_token(base_env: None, private_pem: str) -> None:
    token = token_for(private_pem)

    principal = get_verifier().verify(token)

    assert token not in repr(principal)
    assert token not in str(principal)
    assert token.split(".")[2] not in repr(principal)


def test_principal_without_roles_claim_has_no_roles(base_env: None, private_pem: str) -> None:
    now = int(time.time())
    claims = {
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "sub": "u-1",
        "tenant_id": "acme",
        "iat": now,
        "exp": now + 60,
    }

    principal = get_verifier().verify(jwt.encode(claims, private_pem, algorithm="RS256"))

    assert principal.roles == frozenset()


def test_tenant_id_rule_is_the_tenants_table_rule() -> None:
    from agenthub.db.models import TENANT_ID_PATTERN as TABLE_PATTERN

    assert TENANT_ID_PATTERN.pattern == TABLE_PATTERN


# --- where the key comes from -------------------------------------------------------------------


def test_get_verifier_is_built_once_and_forgotten_on_reset(base_env: None) -> None:
    first = get_verifier()

    assert get_verifier() is first
    composition.reset()
    assert get_verifier() is not first


def test_local_mode_without_configured_key_uses_the_development_key(
    base_env: None, monkeypatch: pytest.MonkeyPatch, private_pem: str
) -> None:
    # GIVEN local (test) mode with neither a PEM nor a JWKS URL
    monkeypatch.delenv("AGENTHUB_AUTH__PUBLIC_KEY_PEM")
    composition.reset()
    pair = ensure_dev_key_pair(get_settings().state_dir)

    # WHEN tokens are verified
    verifier = get_verifier()

    # THEN the development key's tokens pass and others do not
    assert verifier.verify(token_for(pair.private_pem, kid=pair.kid)).user_id == "u-1"
    with pytest.raises(AuthenticationError, match="signature is invalid"):
        verifier.verify(token_for(private_pem))


def test_local_mode_creates_the_development_key_on_first_use(
    base_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTHUB_AUTH__PUBLIC_KEY_PEM")
    composition.reset()
    key_dir: Path = get_settings().state_dir / "jwt"
    assert not key_dir.exists()

    get_verifier()

    assert (key_dir / "private.pem").exists()


def test_configured_pem_wins_over_the_development_key(base_env: None, private_pem: str) -> None:
    pair = ensure_dev_key_pair(get_settings().state_dir)

    with pytest.raises(AuthenticationError):
        get_verifier().verify(token_for(pair.private_pem, kid=pair.kid))
    assert get_verifier().verify(token_for(private_pem)).tenant_id == "acme"


def test_pem_with_escaped_newlines_is_accepted(rsa_public_pem: str, private_pem: str) -> None:
    escaped = rsa_public_pem.replace("\n", "\\n")

    verifier = verifier_with(StaticKeySource.from_pem(escaped))

    assert verifier.verify(token_for(private_pem)).user_id == "u-1"


@pytest.mark.parametrize(
    "make_pem",
    [
        pytest.param(lambda: "not a pem", id="garbage"),
        pytest.param(lambda: public_pem_of(ec.generate_private_key(ec.SECP256R1())), id="ec-key"),
        pytest.param(
            lambda: public_pem_of(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
            id="rsa-1024",
        ),
    ],
)
def test_unusable_configured_pem_is_a_configuration_error(make_pem: Any) -> None:
    with pytest.raises(ConfigurationError):
        StaticKeySource.from_pem(make_pem())


def test_pem_and_jwks_together_are_refused(base_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHUB_AUTH__JWKS_URL", "https://idp.test/jwks.json")
    composition.reset()

    with pytest.raises(ConfigurationError, match="not both"):
        get_verifier()


def test_plain_http_jwks_is_refused_outside_local_mode(
    base_env: None, monkeypatch: pytest.MonkeyPatch, fernet_key: str
) -> None:
    monkeypatch.delenv("AGENTHUB_AUTH__PUBLIC_KEY_PEM")
    settings = Settings(
        env="prod",
        database={"url": "postgresql://agenthub:s3cr3t-pw@db.internal:5432/agenthub"},
        crypto={"fernet_keys": [fernet_key]},
        auth={"jwks_url": "http://idp.internal/jwks.json"},
    )

    with pytest.raises(ConfigurationError, match="https"):
        JwtVerifier.from_settings(settings)


# --- JWKS key source (in memory; the HTTP behaviour is in tests/integration) ---------------------


class InMemoryJwksClient(PyJWKClient):
    def __init__(self, jwks: dict[str, Any] | Exception) -> None:
        super().__init__("https://idp.invalid/jwks.json", cooldown_duration=0)
        self.jwks = jwks
        self.fetches = 0

    def fetch_data(self) -> Any:
        self.fetches += 1
        if isinstance(self.jwks, Exception):
            raise self.jwks
        return self.jwks


def test_jwks_key_set_is_cached_between_verifications(
    rsa_public_pem: str, private_pem: str
) -> None:
    client = InMemoryJwksClient({"keys": [public_jwk(rsa_public_pem, kid="k1")]})
    verifier = verifier_with(JwksKeySource(client))

    verifier.verify(token_for(private_pem, kid="k1"))
    verifier.verify(token_for(private_pem, kid="k1"))

    assert client.fetches == 1


def test_forged_algorithm_never_costs_a_jwks_fetch(rsa_public_pem: str) -> None:
    client = InMemoryJwksClient({"keys": [public_jwk(rsa_public_pem, kid="k1")]})
    unsigned = jwt.encode({"sub": "x"}, None, algorithm="none", headers={"kid": "k9"})

    with pytest.raises(AuthenticationError, match="algorithm"):
        verifier_with(JwksKeySource(client)).verify(unsigned)
    assert client.fetches == 0


def test_jwks_key_published_for_another_algorithm_is_refused(
    rsa_public_pem: str, private_pem: str
) -> None:
    jwk = public_jwk(rsa_public_pem, kid="k1") | {"alg": "RS512"}
    verifier = verifier_with(JwksKeySource(InMemoryJwksClient({"keys": [jwk]})))

    with pytest.raises(AuthenticationError, match="not an RS256 key"):
        verifier.verify(token_for(private_pem, kid="k1"))


@pytest.mark.parametrize(
    "endpoint_answer",
    [
        pytest.param(PyJWKClientConnectionError("connection refused"), id="unreachable"),
        pytest.param({"keys": []}, id="empty-key-set"),
    ],
)
def test_jwks_outage_is_service_unavailable_not_a_bad_token(
    endpoint_answer: Any, private_pem: str
) -> None:
    verifier = verifier_with(JwksKeySource(InMemoryJwksClient(endpoint_answer)))

    with pytest.raises(ServiceUnavailableError, match="signing keys are unavailable"):
        verifier.verify(token_for(private_pem, kid="k1"))


def test_jwks_cache_ttl_zero_fetches_every_time(rsa_public_pem: str) -> None:
    source = JwksKeySource.from_url("https://idp.test/jwks.json", cache_ttl_s=0)

    assert source._client.jwk_set_cache is None


def test_jwks_url_must_be_http_or_https() -> None:
    with pytest.raises(ConfigurationError):
        JwksKeySource.from_url("file:///etc/passwd", cache_ttl_s=60)


def test_jwks_key_shorter_than_2048_bits_is_refused(private_pem: str) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak_private_pem = weak.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwks = {"keys": [public_jwk(public_pem_of(weak), kid="weak")]}
    verifier = verifier_with(JwksKeySource(InMemoryJwksClient(jwks)))
    with pytest.warns(InsecureKeyLengthWarning):  # PyJWT warns when signing with it, too
        token = token_for(weak_private_pem, kid="weak")

    with pytest.raises(AuthenticationError, match="too short"):
        verifier.verify(token)


def test_empty_token_is_refused(rsa_public_pem: str) -> None:
    with pytest.raises(AuthenticationError, match="empty"):
        verifier_with(StaticKeySource.from_pem(rsa_public_pem)).verify("")


# --- verified tokens, remembered ----------------------------------------------------------------


class CountingKeySource:
    """A static key that counts how often a signature check asked for it."""

    def __init__(self, public_pem: str) -> None:
        self._source = StaticKeySource.from_pem(public_pem)
        self.lookups = 0

    def key_for(self, header: dict[str, Any]) -> Any:
        self.lookups += 1
        return self._source.key_for(header)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def remembering_verifier(rsa_public_pem: str) -> tuple[JwtVerifier, CountingKeySource, Clock]:
    keys, clock = CountingKeySource(rsa_public_pem), Clock()
    verifier = JwtVerifier(key_source=keys, issuer=TEST_ISSUER, audience=TEST_AUDIENCE, clock=clock)
    return verifier, keys, clock


def test_a_token_verified_once_is_not_checked_again_within_a_minute(
    rsa_public_pem: str, private_pem: str
) -> None:
    verifier, keys, clock = remembering_verifier(rsa_public_pem)
    token = token_for(private_pem)

    first = verifier.verify(token)
    clock.now += 59
    again = verifier.verify(token)

    assert again == first and keys.lookups == 1
    clock.now += 2  # past the minute: the signature is checked again
    verifier.verify(token)
    assert keys.lookups == 2


def test_a_remembered_token_is_never_served_past_its_expiry(
    rsa_public_pem: str, private_pem: str
) -> None:
    verifier, keys, clock = remembering_verifier(rsa_public_pem)
    token = token_for(private_pem, ttl_s=30)
    verifier.verify(token)

    clock.now += 31  # before the minute, after `exp`: not from memory
    verifier.verify(token)  # (PyJWT reads the real clock: still valid there, with leeway)

    assert keys.lookups == 2


def test_a_tampered_copy_of_a_remembered_token_is_refused(
    rsa_public_pem: str, private_pem: str
) -> None:
    verifier, _, _ = remembering_verifier(rsa_public_pem)
    token = token_for(private_pem)
    verifier.verify(token)
    header, payload, signature = token.split(".")
    other = "AAAA" if signature[-4:] != "AAAA" else "BBBB"
    tampered = f"{header}.{payload}.{signature[:-4]}{other}"

    with pytest.raises(AuthenticationError, match="signature"):
        verifier.verify(tampered)


def test_refused_tokens_are_not_remembered(rsa_public_pem: str, private_pem: str) -> None:
    verifier, keys, _ = remembering_verifier(rsa_public_pem)
    wrong_audience = mint_token(
        private_key_pem=private_pem,
        kid=None,
        tenant_id="acme",
        user_id="u-1",
        issuer=TEST_ISSUER,
        audience="someone-else",
    )

    for _ in range(2):
        with pytest.raises(AuthenticationError, match="audience"):
            verifier.verify(wrong_audience)
    assert keys.lookups == 2
