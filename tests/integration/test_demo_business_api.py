"""The demo business API over real HTTP: it trusts only the forwarded end-user JWT, serves only
the token's tenant, validates MSTs, and records which calls reached it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from agenthub.demo import create_business_api
from agenthub.demo.business_api import CallLog, ReceivedCall
from tests.conftest import TEST_AUDIENCE, TEST_ISSUER
from tests.support import servers
from tests.support.servers import BusinessApiServer

business_api_server = servers.business_api_server
DEBT_PATH = "/erp/customers/{mst}/debt"


def mint_token(
    private_key: rsa.RSAPrivateKey,
    *,
    tenant_id: str | None = "acme",
    sub: str = "user-1",
    issuer: str = TEST_ISSUER,
    audience: str = TEST_AUDIENCE,
    expires_in_s: int = 600,
    kid: str | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + expires_in_s,
    }
    if tenant_id is not None:
        claims["tenant_id"] = tenant_id
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, private_key, algorithm="RS256", headers=headers)


@pytest.fixture(scope="module")
def other_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def api(business_api_server: BusinessApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=business_api_server.base_url, timeout=5) as client:
        yield client


@pytest.fixture
def as_user(rsa_private_key: rsa.RSAPrivateKey) -> Any:
    """Authorization headers for a user of a tenant."""

    def headers(tenant_id: str = "acme", sub: str = "user-1") -> dict[str, str]:
        token = mint_token(rsa_private_key, tenant_id=tenant_id, sub=sub)
        return {"Authorization": f"Bearer {token}"}

    return headers


# --- authentication ---------------------------------------------------------------------------


def test_health_needs_no_token(api: httpx.Client) -> None:
    response = api.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_call_without_a_bearer_token_is_refused_and_recorded(
    api: httpx.Client, business_api_server: BusinessApiServer
) -> None:
    response = api.get(DEBT_PATH.format(mst="0123456789"))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "missing bearer token"}
    assert business_api_server.calls() == [
        {
            "method": "GET",
            "path": "/erp/customers/0123456789/debt",
            "had_bearer": False,
            "authenticated": False,
            "tenant_id": None,
            "sub": None,
        }
    ]


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda key, other: mint_token(key, expires_in_s=-120), id="expired"),
        pytest.param(lambda key, other: mint_token(key, issuer="https://evil"), id="wrong-issuer"),
        pytest.param(lambda key, other: mint_token(key, audience="other-api"), id="wrong-audience"),
        pytest.param(lambda key, other: mint_token(other), id="signed-by-another-key"),
        pytest.param(lambda key, other: mint_token(key, tenant_id=None), id="no-tenant-claim"),
        pytest.param(lambda key, other: mint_token(key, tenant_id=""), id="empty-tenant-claim"),
        pytest.param(
            lambda key, other: jwt.encode(
                {"sub": "u", "tenant_id": "acme", "iss": TEST_ISSUER, "aud": TEST_AUDIENCE},
                key=None,
                algorithm="none",
            ),
            id="unsigned",
        ),
        pytest.param(lambda key, other: "not-a-jwt", id="garbage"),
    ],
)
def test_an_invalid_token_is_refused(
    api: httpx.Client,
    business_api_server: BusinessApiServer,
    rsa_private_key: rsa.RSAPrivateKey,
    other_private_key: rsa.RSAPrivateKey,
    make_token: Any,
) -> None:
    token = make_token(rsa_private_key, other_private_key)

    response = api.get(
        DEBT_PATH.format(mst="0123456789"), headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert response.json()["detail"].startswith("invalid token")
    [call] = business_api_server.calls()
    assert call["had_bearer"] is True
    assert call["authenticated"] is False
    assert call["tenant_id"] is None


def test_the_verified_caller_is_recorded_for_each_call(
    api: httpx.Client, business_api_server: BusinessApiServer, as_user: Any
) -> None:
    api.get(DEBT_PATH.format(mst="0123456789"), headers=as_user("acme", "an@acme"))
    api.get("/logistics/shipments/SHP-2001", headers=as_user("globex", "bo@globex"))

    assert business_api_server.calls() == [
        {
            "method": "GET",
            "path": "/erp/customers/0123456789/debt",
            "had_bearer": True,
            "authenticated": True,
            "tenant_id": "acme",
            "sub": "an@acme",
        },
        {
            "method": "GET",
            "path": "/logistics/shipments/SHP-2001",
            "had_bearer": True,
            "authenticated": True,
            "tenant_id": "globex",
            "sub": "bo@globex",
        },
    ]

    business_api_server.clear_calls()
    assert business_api_server.calls() == []


def test_the_call_log_keeps_only_the_most_recent_calls() -> None:
    log = CallLog(maxlen=2)
    for number in range(3):
        log.record(ReceivedCall("GET", f"/p/{number}", True, True, "acme", "u"))

    assert [call.path for call in log.snapshot()] == ["/p/1", "/p/2"]


def test_tokens_can_be_verified_against_a_jwks_url(rsa_private_key: rsa.RSAPrivateKey) -> None:
    # GIVEN a JWKS endpoint publishing the signing key under a kid
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_private_key.public_key()))
    jwks = json.dumps({"keys": [{**jwk, "kid": "key-2025", "use": "sig", "alg": "RS256"}]})

    class JwksHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(jwks.encode())

        def log_message(self, format: str, *args: Any) -> None:
            pass

    jwks_server = ThreadingHTTPServer(("127.0.0.1", 0), JwksHandler)
    serving = threading.Thread(target=jwks_server.serve_forever, kwargs={"poll_interval": 0.05})
    serving.start()
    jwks_url = f"http://127.0.0.1:{jwks_server.server_address[1]}/.well-known/jwks.json"
    app = create_business_api(jwks_url=jwks_url, issuer=TEST_ISSUER, audience=TEST_AUDIENCE)
    server = BusinessApiServer(app).start()
    try:
        # WHEN a token signed with that key, and one with an unknown kid, are presented
        good = mint_token(rsa_private_key, tenant_id="globex", kid="key-2025")
        unknown = mint_token(rsa_private_key, tenant_id="globex", kid="retired-key")
        with httpx.Client(base_url=server.base_url, timeout=5) as client:
            accepted = client.get(
                "/logistics/shipments/SHP-2001", headers={"Authorization": f"Bearer {good}"}
            )
            refused = client.get(
                "/logistics/shipments/SHP-2001", headers={"Authorization": f"Bearer {unknown}"}
            )
    finally:
        server.stop()
        jwks_server.shutdown()
        jwks_server.server_close()
        serving.join()

    # THEN the key is found by kid, and a kid not in the set is refused
    assert accepted.status_code == 200
    assert accepted.json()["tracking_id"] == "SHP-2001"
    assert refused.status_code == 401


@pytest.mark.parametrize(
    "keys",
    [{}, {"public_key_pem": "pem", "jwks_url": "http://127.0.0.1/jwks"}],
    ids=["neither", "both"],
)
def test_the_api_needs_exactly_one_key_source(keys: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        create_business_api(issuer=TEST_ISSUER, audience=TEST_AUDIENCE, **keys)


# --- ERP debt ---------------------------------------------------------------------------------


def test_debt_by_mst_returns_the_callers_tenant_figures(api: httpx.Client, as_user: Any) -> None:
    response = api.get(DEBT_PATH.format(mst="0123456789"), headers=as_user("acme"))

    assert response.status_code == 200
    debt = response.json()
    assert debt["mst"] == "0123456789"
    assert debt["customer_name"] == "Công ty TNHH Thương mại Minh Phát"
    assert debt["currency"] == "VND"
    assert debt["total_debt"] == 269_750_000
    assert debt["overdue_debt"] == 205_500_000
    assert debt["credit_limit"] == 500_000_000
    assert debt["due_date"] == "2025-05-12"
    assert debt["as_of"] == "2025-06-30T17:00:00+07:00"
    assert debt["invoices"][1] == {
        "invoice_no": "HD-2025-0412",
        "issued": "2025-04-12",
        "due": "2025-05-12",
        "amount": 120_500_000,
        "status": "overdue",
    }
    unpaid = [invoice["amount"] for invoice in debt["invoices"] if invoice["status"] != "paid"]
    assert sum(unpaid) == debt["total_debt"]


def test_the_same_mst_in_another_tenant_has_that_tenants_figures(
    api: httpx.Client, as_user: Any
) -> None:
    acme = api.get(DEBT_PATH.format(mst="0123456789"), headers=as_user("acme")).json()
    globex = api.get(DEBT_PATH.format(mst="0123456789"), headers=as_user("globex")).json()

    assert globex["total_debt"] == 405_750_000
    assert globex["total_debt"] != acme["total_debt"]
    assert {i["invoice_no"] for i in globex["invoices"]}.isdisjoint(
        {i["invoice_no"] for i in acme["invoices"]}
    )


def test_a_branch_mst_is_accepted(api: httpx.Client, as_user: Any) -> None:
    response = api.get(DEBT_PATH.format(mst="0109876543-001"), headers=as_user("acme"))

    assert response.status_code == 200
    assert response.json()["total_debt"] == 152_300_000


def test_a_customer_of_one_tenant_is_not_found_by_another(api: httpx.Client, as_user: Any) -> None:
    response = api.get(DEBT_PATH.format(mst="0109876543-001"), headers=as_user("globex"))

    assert response.status_code == 404
    assert response.json() == {"detail": "customer not found"}


def test_an_unknown_mst_is_not_found(api: httpx.Client, as_user: Any) -> None:
    response = api.get(DEBT_PATH.format(mst="0999999999"), headers=as_user("acme"))

    assert response.status_code == 404
    assert response.json() == {"detail": "customer not found"}


@pytest.mark.parametrize(
    "mst", ["12345", "01234567890", "012345678A", "0123456789-01", "0123456789-0011", "0123456789-"]
)
def test_a_malformed_mst_is_a_bad_request(api: httpx.Client, as_user: Any, mst: str) -> None:
    response = api.get(DEBT_PATH.format(mst=mst), headers=as_user("acme"))

    assert response.status_code == 400
    assert "invalid MST" in response.json()["detail"]


# --- logistics --------------------------------------------------------------------------------


def test_a_shipment_is_tracked_by_id(api: httpx.Client, as_user: Any) -> None:
    response = api.get("/logistics/shipments/SHP-1001", headers=as_user("acme"))

    assert response.status_code == 200
    shipment = response.json()
    assert shipment["tracking_id"] == "SHP-1001"
    assert shipment["status"] == "in_transit"
    assert (shipment["origin"], shipment["destination"]) == ("TP. Hồ Chí Minh", "Hà Nội")
    assert shipment["carrier"] == "Viettel Post"
    assert shipment["eta"] == "2025-07-02"
    assert shipment["last_update"] == shipment["events"][-1]["time"]
    assert set(shipment["events"][0]) == {"time", "location", "description"}


def test_another_tenants_shipment_is_not_found(api: httpx.Client, as_user: Any) -> None:
    assert api.get("/logistics/shipments/SHP-1001", headers=as_user("acme")).status_code == 200

    response = api.get("/logistics/shipments/SHP-1001", headers=as_user("globex"))

    assert response.status_code == 404
    assert response.json() == {"detail": "shipment not found"}


def test_search_filters_the_tenants_shipments(api: httpx.Client, as_user: Any) -> None:
    path = "/logistics/shipments/search"

    by_customer = api.post(path, json={"customer_mst": "0123456789"}, headers=as_user("acme"))
    delayed = api.post(
        path, json={"customer_mst": "0123456789", "status": "delayed"}, headers=as_user("acme")
    )
    everything = api.post(path, json={}, headers=as_user("globex"))
    same_customer_elsewhere = api.post(
        path, json={"customer_mst": "0123456789"}, headers=as_user("globex")
    )

    assert by_customer.status_code == 200
    assert [s["tracking_id"] for s in by_customer.json()] == ["SHP-1001", "SHP-1003"]
    assert [s["tracking_id"] for s in delayed.json()] == ["SHP-1003"]
    assert [s["tracking_id"] for s in everything.json()] == ["SHP-2001", "SHP-2002"]
    assert [s["tracking_id"] for s in same_customer_elsewhere.json()] == ["SHP-2002"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"customer_mst": "12-34"}, 400),
        ({"status": "lost_at_sea"}, 422),
        ({"customer": "0123456789"}, 422),
    ],
)
def test_search_rejects_bad_input(
    api: httpx.Client, as_user: Any, body: dict[str, str], status: int
) -> None:
    response = api.post("/logistics/shipments/search", json=body, headers=as_user("acme"))

    assert response.status_code == status


def test_search_requires_a_token(api: httpx.Client) -> None:
    response = api.post("/logistics/shipments/search", json={})

    assert response.status_code == 401


def test_stopping_the_server_leaves_no_thread_behind(rsa_public_pem: str) -> None:
    app = create_business_api(
        public_key_pem=rsa_public_pem, issuer=TEST_ISSUER, audience=TEST_AUDIENCE
    )
    before = set(threading.enumerate())
    server = BusinessApiServer(app, name="stop-check").start()
    assert httpx.get(f"{server.base_url}/health", timeout=5).status_code == 200

    server.stop()

    # A worker thread may still be on its way out when stop() returns: give it a moment.
    extra = set(threading.enumerate()) - before
    for thread in extra:
        thread.join(timeout=5)
    assert [t for t in extra if t.is_alive()] == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/health", timeout=1)
