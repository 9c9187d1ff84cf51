"""Auth through a real FastAPI app: every bad token is a 401 JSON error, every missing right a 403.

The app is built with `agenthub.api.app.create_app` and the dependencies of `agenthub.auth`;
settings come from `base_env` (the test RSA key pair, TEST_ISSUER, TEST_AUDIENCE).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from jwt import PyJWKClient

from agenthub.api.app import create_app
from agenthub.auth import (
    PLATFORM_ADMIN,
    TENANT_ADMIN,
    AdminPrincipal,
    CurrentPrincipal,
    JwtVerifier,
    Principal,
    TenantPrincipal,
    get_verifier,
    mint_token,
    public_jwk,
    require_roles,
)
from agenthub.auth.keys import JwksKeySource
from agenthub.observability import get_logger
from agenthub.observability import log_keys as request_log_keys
from tests.conftest import TEST_AUDIENCE, TEST_ISSUER

TENANT = "acme"
USER = "user-1"


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(obj: Any) -> str:
    return _b64(json.dumps(obj).encode())


@dataclass(frozen=True)
class Keys:
    """The trusted key pair of base_env, plus a foreign one nobody trusts."""

    private_pem: str
    public_pem: str
    foreign_private_pem: str


@pytest.fixture(scope="module")
def foreign_private_pem() -> str:
    return _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
def keys(rsa_private_key: rsa.RSAPrivateKey, rsa_public_pem: str, foreign_private_pem: str) -> Keys:
    return Keys(_pem(rsa_private_key), rsa_public_pem, foreign_private_pem)


def valid_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "sub": USER,
        "tenant_id": TENANT,
        "roles": [],
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def without(*names: str) -> dict[str, Any]:
    claims = valid_claims()
    for name in names:
        del claims[name]
    return claims


def signed(
    keys: Keys,
    claims: dict[str, Any],
    *,
    algorithm: str = "RS256",
    headers: dict[str, Any] | None = None,
) -> str:
    return jwt.encode(claims, keys.private_pem, algorithm=algorithm, headers=headers)


def _hs256_with_public_pem(keys: Keys) -> str:
    # The classic key-confusion attack: the verifier's public key used as an HMAC secret.
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(valid_claims())}"
    mac = hmac.new(keys.public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _unsigned(keys: Keys) -> str:
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(valid_claims())}."


def _tampered_payload(keys: Keys) -> str:
    header, _, signature = signed(keys, valid_claims(tenant_id="other")).split(".")
    return f"{header}.{_segment(valid_claims())}.{signature}"


def _truncated_signature(keys: Keys) -> str:
    # Cut on a byte boundary: still valid base64url, just a signature that is too short.
    header, payload, signature = signed(keys, valid_claims()).split(".")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    return f"{header}.{payload}.{_b64(raw[:-8])}"


def _pss_signed(keys: Keys) -> str:
    return signed(keys, valid_claims(), algorithm="PS256")


def _rs512_signed(keys: Keys) -> str:
    return signed(keys, valid_claims(), algorithm="RS512")


def _rs256_header_rs512_signature(keys: Keys) -> str:
    token = signed(keys, valid_claims())
    header, payload, _ = token.split(".")
    private = serialization.load_pem_private_key(keys.private_pem.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    from cryptography.hazmat.primitives import hashes

    signature = private.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA512())
    return f"{header}.{payload}.{_b64(signature)}"


TokenFactory = Callable[[Keys], str]


def now() -> int:
    return int(time.time())


# (id, factory, what the 401 message says): each token is built when its test runs, so
# times are fresh.
BAD_TOKENS: list[tuple[str, TokenFactory, str]] = [
    ("alg-none-unsigned", _unsigned, "algorithm is not allowed"),
    ("hs256-signed-with-public-key-pem", _hs256_with_public_pem, "algorithm is not allowed"),
    ("rs512-instead-of-rs256", _rs512_signed, "algorithm is not allowed"),
    ("ps256-instead-of-rs256", _pss_signed, "algorithm is not allowed"),
    ("rs256-header-over-rs512-signature", _rs256_header_rs512_signature, "signature is invalid"),
    (
        "expired",
        lambda k: signed(k, valid_claims(iat=now() - 3600, exp=now() - 120)),
        "has expired",
    ),
    (
        "nbf-in-future",
        lambda k: signed(k, valid_claims(nbf=now() + 600)),
        "not valid yet",
    ),
    (
        "iat-in-future-beyond-leeway",
        lambda k: signed(k, valid_claims(iat=now() + 300)),
        "not valid yet",
    ),
    ("missing-aud", lambda k: signed(k, without("aud")), "missing the required 'aud'"),
    ("wrong-aud", lambda k: signed(k, valid_claims(aud="another-api")), "audience is not accepted"),
    (
        "aud-list-without-ours",
        lambda k: signed(k, valid_claims(aud=["a", "b"])),
        "audience is not accepted",
    ),
    ("missing-iss", lambda k: signed(k, without("iss")), "missing the required 'iss'"),
    (
        "wrong-iss",
        lambda k: signed(k, valid_claims(iss="https://evil.test")),
        "issuer is not accepted",
    ),
    ("missing-exp", lambda k: signed(k, without("exp")), "missing the required 'exp'"),
    ("missing-iat", lambda k: signed(k, without("iat")), "missing the required 'iat'"),
    ("missing-sub", lambda k: signed(k, without("sub")), "missing the required 'sub'"),
    ("empty-sub", lambda k: signed(k, valid_claims(sub=" ")), "'sub' claim is not a valid user id"),
    ("non-string-sub", lambda k: signed(k, valid_claims(sub=42)), "'sub' claim must be a string"),
    (
        "missing-tenant-id",
        lambda k: signed(k, without("tenant_id")),
        "missing the required 'tenant_id'",
    ),
    (
        "null-tenant-id",
        lambda k: signed(k, valid_claims(tenant_id=None)),
        "missing the required 'tenant_id'",
    ),
    (
        "non-string-tenant-id",
        lambda k: signed(k, valid_claims(tenant_id=123)),
        "'tenant_id' claim is not a valid tenant id",
    ),
    (
        "malformed-tenant-id",
        lambda k: signed(k, valid_claims(tenant_id="acme:cache:x")),
        "'tenant_id' claim is not a valid tenant id",
    ),
    (
        "exp-as-numeric-string",
        lambda k: signed(k, valid_claims(exp=str(now() + 600))),
        "'exp' claim must be a number",
    ),
    (
        "iat-as-text",
        lambda k: signed(k, valid_claims(iat="yesterday")),
        "'iat' claim must be a number",
    ),
    (
        "exp-before-iat",
        lambda k: signed(k, valid_claims(iat=now() + 20, exp=now() + 10)),
        "'exp' must be later than 'iat'",
    ),
    (
        "lifetime-over-24h",
        lambda k: signed(k, valid_claims(exp=now() + 86_400 + 60)),
        "lifetime exceeds the maximum of 86400 seconds",
    ),
    (
        "roles-not-a-list",
        lambda k: signed(k, valid_claims(roles=PLATFORM_ADMIN)),
        "'roles' claim must be a list of strings",
    ),
    (
        "roles-with-non-string",
        lambda k: signed(k, valid_claims(roles=[TENANT_ADMIN, 1])),
        "'roles' claim must be a list of strings",
    ),
    (
        "signed-by-foreign-rsa-key",
        lambda k: jwt.encode(valid_claims(), k.foreign_private_pem, "RS256"),
        "signature is invalid",
    ),
    ("tampered-payload", _tampered_payload, "signature is invalid"),
    ("truncated-signature", _truncated_signature, "signature is invalid"),
    ("signature-not-base64url", lambda k: signed(k, valid_claims()) + "!!", "malformed"),
    (
        "stripped-signature",
        lambda k: signed(k, valid_claims()).rsplit(".", 1)[0] + ".",
        "signature is invalid",
    ),
    ("garbage", lambda k: "this-is-not-a-jwt", "malformed"),
    ("two-segments", lambda k: ".".join(signed(k, valid_claims()).split(".")[:2]), "malformed"),
    ("four-segments", lambda k: signed(k, valid_claims()) + ".extra", "malformed"),
    (
        "header-not-json",
        lambda k: "bm90LWpzb24." + signed(k, valid_claims()).split(".", 1)[1],
        "malformed",
    ),
    ("oversized", lambda k: signed(k, valid_claims(padding="x" * 10_000)), "too large"),
]

# Whole Authorization header values that never reach the verifier.
BAD_HEADERS: list[tuple[str, str | None, str]] = [
    ("no-authorization-header", None, "missing Authorization header"),
    ("empty-bearer", "Bearer ", "empty bearer token"),
    ("bare-scheme", "Bearer", "empty bearer token"),
    ("basic-scheme", "Basic dXNlcjpwYXNz", "must use the Bearer scheme"),
    ("token-without-scheme", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "must use the Bearer scheme"),
]


def _profile(principal: Principal) -> dict[str, Any]:
    return {
        "user_id": principal.user_id,
        "tenant_id": principal.tenant_id,
        "roles": sorted(principal.roles),
        "log_keys": request_log_keys(),
    }


def build_app() -> FastAPI:
    app = create_app(title="auth test", description="routes guarded by agenthub.auth")

    @app.get("/api/me")
    def me(principal: CurrentPrincipal) -> dict[str, Any]:
        return _profile(principal)

    @app.get("/api/{tenant_id}/whoami")
    def whoami(tenant_id: str, principal: TenantPrincipal) -> dict[str, Any]:
        return _profile(principal)

    @app.get("/api/admin/ping")
    def admin_ping(admin: AdminPrincipal) -> dict[str, Any]:
        return _profile(admin)

    return app


def build_platform_app() -> FastAPI:
    app = create_app(title="platform test", description="platform_admin only")

    @app.get("/api/platform/ping")
    def platform_ping(
        admin: Annotated[Principal, Depends(require_roles(PLATFORM_ADMIN))],
    ) -> dict[str, Any]:
        return _profile(admin)

    return app


@pytest.fixture
def client(base_env: None) -> Iterator[TestClient]:
    with TestClient(build_app()) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_unauthenticated(response: Any, token: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["code"] == "unauthenticated"
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    if token:
        # No part of the token is echoed back.
        for part in token.split("."):
            if len(part) >= 8:
                assert part not in response.text


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [pytest.param(factory, reason, id=name) for name, factory, reason in BAD_TOKENS],
)
def test_bad_token_is_401_json_error(
    client: TestClient, keys: Keys, make_token: TokenFactory, reason: str
) -> None:
    token = make_token(keys)

    response = client.get(f"/api/{TENANT}/whoami", headers=bearer(token))

    assert_unauthenticated(response, token)
    assert reason in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [pytest.param(value, reason, id=name) for name, value, reason in BAD_HEADERS],
)
def test_bad_authorization_header_is_401_json_error(
    client: TestClient, authorization: str | None, reason: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.get(f"/api/{TENANT}/whoami", headers=headers)

    assert_unauthenticated(response)
    assert reason in response.json()["error"]["message"]


def test_at_least_twenty_bad_variants_are_covered() -> None:
    assert len(BAD_TOKENS) + len(BAD_HEADERS) >= 20


def test_bad_token_message_says_what_is_wrong(client: TestClient, keys: Keys) -> None:
    expired = signed(keys, valid_claims(iat=now() - 3600, exp=now() - 120))
    no_tenant = signed(keys, without("tenant_id"))

    assert client.get("/api/me", headers=bearer(expired)).json()["error"]["message"] == (
        "token has expired"
    )
    assert client.get("/api/me", headers=bearer(no_tenant)).json()["error"]["message"] == (
        "token is missing the required 'tenant_id' claim"
    )


def test_valid_token_gives_the_principal(client: TestClient, keys: Keys) -> None:
    token = mint_token(
        private_key_pem=keys.private_pem,
        kid=None,
        tenant_id=TENANT,
        user_id=USER,
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
    )

    response = client.get(f"/api/{TENANT}/whoami", headers=bearer(token))

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["user_id"], body["tenant_id"], body["roles"]) == (USER, TENANT, [])


def test_lowercase_bearer_scheme_is_accepted(client: TestClient, keys: Keys) -> None:
    response = client.get(
        "/api/me", headers={"Authorization": f"bearer {signed(keys, valid_claims())}"}
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "make_claims",
    [
        pytest.param(lambda: valid_claims(aud=["x", TEST_AUDIENCE]), id="aud-list-with-ours"),
        pytest.param(lambda: valid_claims(nbf=now() - 5), id="nbf-in-past"),
        pytest.param(lambda: valid_claims(iat=now() + 10), id="iat-ahead-within-leeway"),
        pytest.param(
            lambda: valid_claims(iat=now() - 3600, exp=now() - 10), id="expired-within-leeway"
        ),
        pytest.param(lambda: valid_claims(exp=now() + 86_400), id="lifetime-exactly-24h"),
        pytest.param(lambda: valid_claims(roles=["viewer"]), id="unknown-role-kept"),
    ],
)
def test_edge_but_valid_tokens_are_accepted(
    client: TestClient, keys: Keys, make_claims: Callable[[], dict[str, Any]]
) -> None:
    response = client.get("/api/me", headers=bearer(signed(keys, make_claims())))

    assert response.status_code == 200, response.text


def test_authentication_adds_tenant_and_user_to_log_keys_but_never_the_token(
    client: TestClient, keys: Keys
) -> None:
    token = signed(keys, valid_claims())

    response = client.get("/api/me", headers=bearer(token))

    log_keys = response.json()["log_keys"]
    assert log_keys["tenant_id"] == TENANT
    assert log_keys["user_id"] == USER
    assert token not in json.dumps(log_keys)


def test_log_keys_are_cleared_after_the_request(client: TestClient, keys: Keys) -> None:
    client.get("/api/me", headers=bearer(signed(keys, valid_claims())))

    assert "tenant_id" not in request_log_keys()
    assert "tenant_id" not in get_logger().get_current_keys()  # nor in the process-wide keys


# --- authorization (403) -----------------------------------------------------------------------


def test_token_of_another_tenant_is_403(client: TestClient, keys: Keys) -> None:
    # GIVEN a valid token of tenant "other"
    token = signed(keys, valid_claims(tenant_id="other"))

    # WHEN it calls a route of tenant "acme"
    response = client.get(f"/api/{TENANT}/whoami", headers=bearer(token))

    # THEN it is forbidden, as JSON
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_platform_admin_does_not_bypass_the_tenant_check(client: TestClient, keys: Keys) -> None:
    token = signed(keys, valid_claims(tenant_id="other", roles=[PLATFORM_ADMIN]))

    response = client.get(f"/api/{TENANT}/whoami", headers=bearer(token))

    assert response.status_code == 403


def test_bad_token_on_a_foreign_tenant_route_is_401_not_403(client: TestClient) -> None:
    response = client.get("/api/someone-else/whoami", headers=bearer("garbage"))

    assert response.status_code == 401


@pytest.mark.parametrize("roles", [[], ["viewer"]], ids=["no-roles", "unrelated-role"])
def test_admin_route_without_admin_role_is_403(
    client: TestClient, keys: Keys, roles: list[str]
) -> None:
    response = client.get(
        "/api/admin/ping", headers=bearer(signed(keys, valid_claims(roles=roles)))
    )

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert "platform_admin" in error["message"]


@pytest.mark.parametrize("role", [PLATFORM_ADMIN, TENANT_ADMIN])
def test_admin_route_accepts_either_admin_role(client: TestClient, keys: Keys, role: str) -> None:
    response = client.get(
        "/api/admin/ping", headers=bearer(signed(keys, valid_claims(roles=[role])))
    )

    assert response.status_code == 200, response.text
    assert response.json()["roles"] == [role]


def test_admin_route_with_bad_token_is_401(client: TestClient) -> None:
    assert_unauthenticated(client.get("/api/admin/ping", headers=bearer("x.y.z")))


def test_require_roles_with_one_role_refuses_the_other(base_env: None, keys: Keys) -> None:
    with TestClient(build_platform_app()) as platform_client:
        tenant_admin = signed(keys, valid_claims(roles=[TENANT_ADMIN]))
        platform_admin = signed(keys, valid_claims(roles=[PLATFORM_ADMIN]))

        assert (
            platform_client.get("/api/platform/ping", headers=bearer(tenant_admin)).status_code
            == 403
        )
        assert (
            platform_client.get("/api/platform/ping", headers=bearer(platform_admin)).status_code
            == 200
        )


def test_require_roles_needs_at_least_one_role() -> None:
    with pytest.raises(ValueError):
        require_roles()


def test_openapi_declares_the_bearer_scheme(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]

    assert schemes["HTTPBearer"]["scheme"] == "bearer"


# --- JWKS-specific variants (in memory: the unit tier has no network) ---------------------------


class InMemoryJwksClient(PyJWKClient):
    """A PyJWKClient whose endpoint is a dict: same caching and kid logic, no HTTP."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        super().__init__("https://idp.invalid/.well-known/jwks.json", cooldown_duration=0)
        self.jwks = jwks
        self.fetches = 0

    def fetch_data(self) -> Any:
        self.fetches += 1
        return self.jwks


@pytest.fixture
def jwks_client(base_env: None, keys: Keys) -> Iterator[TestClient]:
    jwks = {"keys": [public_jwk(keys.public_pem, kid="key-1")]}
    verifier = JwtVerifier(
        key_source=JwksKeySource(InMemoryJwksClient(jwks)),
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
    )
    app = build_app()
    app.dependency_overrides[get_verifier] = lambda: verifier
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"kid": "key-2"}, id="unknown-kid"),
        pytest.param({}, id="no-kid"),
    ],
)
def test_jwks_token_without_a_known_kid_is_401(
    jwks_client: TestClient, keys: Keys, headers: dict[str, str]
) -> None:
    token = signed(keys, valid_claims(), headers=headers)

    assert_unauthenticated(jwks_client.get("/api/me", headers=bearer(token)), token)


def test_jwks_token_with_known_kid_is_accepted(jwks_client: TestClient, keys: Keys) -> None:
    token = signed(keys, valid_claims(), headers={"kid": "key-1"})

    assert jwks_client.get("/api/me", headers=bearer(token)).status_code == 200


def test_tenant_principal_on_a_route_without_tenant_is_a_server_error(
    base_env: None, keys: Keys
) -> None:
    app = create_app(title="misuse", description="TenantPrincipal without {tenant_id}")

    @app.get("/api/no-tenant")
    def no_tenant(principal: TenantPrincipal) -> dict[str, Any]:
        return {}

    with TestClient(app) as misused:
        response = misused.get("/api/no-tenant", headers=bearer(signed(keys, valid_claims())))

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "configuration_error"
