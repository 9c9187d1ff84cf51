"""JWKS over real HTTP: the key set is cached, a rotated `kid` triggers one re-fetch, an
unknown `kid` is refused after it, and the endpoint is not hammered by made-up `kid`s.

The identity provider is a real `http.server` on 127.0.0.1 that counts its requests.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from agenthub import composition
from agenthub.api.app import create_app
from agenthub.auth import CurrentPrincipal, JwtVerifier, mint_token, public_jwk
from agenthub.auth.keys import JwksKeySource
from agenthub.errors import AuthenticationError, ServiceUnavailableError
from tests.conftest import TEST_AUDIENCE, TEST_ISSUER

JWKS_PATH = "/.well-known/jwks.json"


@dataclass
class SigningKey:
    kid: str
    private_pem: str
    public_pem: str

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        return cls(kid=kid, private_pem=private_pem, public_pem=public_pem)

    def token(self, *, kid: str | None = None, tenant_id: str = "acme") -> str:
        return mint_token(
            private_key_pem=self.private_pem,
            kid=kid or self.kid,
            tenant_id=tenant_id,
            user_id="u-1",
            issuer=TEST_ISSUER,
            audience=TEST_AUDIENCE,
        )


@pytest.fixture(scope="module")
def key_a() -> SigningKey:
    return SigningKey.generate("key-a")


@pytest.fixture(scope="module")
def key_b() -> SigningKey:
    return SigningKey.generate("key-b")


@dataclass
class IdentityProvider:
    """What the JWKS endpoint publishes, and how many times it was asked."""

    url: str
    keys: list[SigningKey] = field(default_factory=list)
    requests: int = 0

    def publish(self, *keys: SigningKey) -> None:
        self.keys = list(keys)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(key.public_pem, kid=key.kid) for key in self.keys]}


@pytest.fixture
def idp(key_a: SigningKey) -> Iterator[IdentityProvider]:
    provider = IdentityProvider(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.requests += 1
            if self.path != JWKS_PATH:
                self.send_error(404)
                return
            body = json.dumps(provider.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.url = f"http://127.0.0.1:{server.server_address[1]}{JWKS_PATH}"
    provider.publish(key_a)
    yield provider
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def jwks_verifier(url: str, *, refetch_cooldown_s: float = 0) -> JwtVerifier:
    return JwtVerifier(
        key_source=JwksKeySource.from_url(
            url, cache_ttl_s=3600, refetch_cooldown_s=refetch_cooldown_s
        ),
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
    )


def test_key_set_is_cached_second_verify_makes_no_request(
    idp: IdentityProvider, key_a: SigningKey
) -> None:
    verifier = jwks_verifier(idp.url)

    verifier.verify(key_a.token())
    verifier.verify(key_a.token())

    assert idp.requests == 1


def test_rotated_key_is_fetched_once_and_accepted(
    idp: IdentityProvider, key_a: SigningKey, key_b: SigningKey
) -> None:
    # GIVEN a verifier that has cached the key set holding only key-a
    verifier = jwks_verifier(idp.url)
    verifier.verify(key_a.token())
    assert idp.requests == 1

    # WHEN the provider rotates to key-b and a key-b token arrives
    idp.publish(key_a, key_b)
    principal = verifier.verify(key_b.token())

    # THEN the key set is fetched once more and the token is accepted; later tokens use the cache
    assert principal.user_id == "u-1"
    assert idp.requests == 2
    verifier.verify(key_b.token())
    verifier.verify(key_a.token())
    assert idp.requests == 2


def test_unknown_kid_after_refetch_is_401(
    idp: IdentityProvider, key_a: SigningKey, key_b: SigningKey
) -> None:
    verifier = jwks_verifier(idp.url)
    verifier.verify(key_a.token())

    # key-b signs, but the provider never publishes it
    with pytest.raises(AuthenticationError, match="unknown key"):
        verifier.verify(key_b.token())
    assert idp.requests == 2


def test_made_up_kids_do_not_hammer_the_endpoint(
    idp: IdentityProvider, key_a: SigningKey, key_b: SigningKey
) -> None:
    # GIVEN the production cooldown between forced re-fetches
    verifier = jwks_verifier(idp.url, refetch_cooldown_s=30)
    verifier.verify(key_a.token())

    # WHEN many tokens with unknown kids arrive right after the fetch
    for index in range(5):
        with pytest.raises(AuthenticationError):
            verifier.verify(key_b.token(kid=f"made-up-{index}"))

    # THEN none of them reached the identity provider
    assert idp.requests == 1


def test_unreachable_jwks_endpoint_is_service_unavailable(key_a: SigningKey) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verifier = jwks_verifier(f"http://127.0.0.1:{port}{JWKS_PATH}")

    with pytest.raises(ServiceUnavailableError):
        verifier.verify(key_a.token())


@pytest.fixture
def jwks_env(base_env: None, monkeypatch: pytest.MonkeyPatch, idp: IdentityProvider) -> None:
    monkeypatch.delenv("AGENTHUB_AUTH__PUBLIC_KEY_PEM")
    monkeypatch.setenv("AGENTHUB_AUTH__JWKS_URL", idp.url)
    composition.reset()


def test_api_with_jwks_settings_accepts_published_keys_only(
    jwks_env: None, idp: IdentityProvider, key_a: SigningKey, key_b: SigningKey
) -> None:
    app = create_app(title="jwks test", description="JWKS-configured auth")

    @app.get("/api/me")
    def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"user_id": principal.user_id}

    with TestClient(app) as client:
        good = client.get("/api/me", headers={"Authorization": f"Bearer {key_a.token()}"})
        unknown = client.get("/api/me", headers={"Authorization": f"Bearer {key_b.token()}"})

    assert good.status_code == 200
    assert good.json() == {"user_id": "u-1"}
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "unauthenticated"
