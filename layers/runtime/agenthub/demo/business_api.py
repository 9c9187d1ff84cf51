"""The demo business API: ERP customer debt and logistics shipments, per tenant.

It stands in for a customer's own systems, so it behaves like one: it trusts nothing but the end
user's JWT that AgentHub forwards (RS256, issuer and audience checked), serves only the token's
tenant, and answers errors FastAPI's plain way (`{"detail": ...}`), not with AgentHub's envelope.

`GET /_calls` lists the calls it received (who, with or without a bearer token) so tests and
the local stack can show that the user's token reached the tool.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from agenthub.demo import data
from agenthub.demo.data import CustomerDebt, Shipment, ShipmentStatus

MAX_RECORDED_CALLS = 200
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "tenant_id"]
CLOCK_SKEW_S = 30


@dataclass(frozen=True)
class ReceivedCall:
    method: str
    path: str
    had_bearer: bool
    authenticated: bool
    tenant_id: str | None
    sub: str | None


class CallLog:
    """The most recent calls, oldest first; bounded so a long-running demo cannot grow it."""

    def __init__(self, maxlen: int = MAX_RECORDED_CALLS) -> None:
        self._calls: deque[ReceivedCall] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def record(self, call: ReceivedCall) -> None:
        with self._lock:
            self._calls.append(call)

    def snapshot(self) -> list[ReceivedCall]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    sub: str


class TokenVerifier:
    """Checks an RS256 JWT against a PEM public key or a JWKS endpoint (keys picked by `kid`)."""

    def __init__(
        self, *, public_key_pem: str | None, jwks_url: str | None, issuer: str, audience: str
    ) -> None:
        if (public_key_pem is None) == (jwks_url is None):
            raise ValueError("give exactly one of public_key_pem or jwks_url")
        self._public_key_pem = public_key_pem
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str) -> Caller:
        """The caller named by a valid token; raises `jwt.PyJWTError` otherwise."""
        key: Any = (
            self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self._public_key_pem
        )
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=self._issuer,
            audience=self._audience,
            leeway=CLOCK_SKEW_S,
            options={"require": REQUIRED_CLAIMS},
        )
        tenant_id, sub = claims["tenant_id"], claims["sub"]
        if not (isinstance(tenant_id, str) and tenant_id and isinstance(sub, str) and sub):
            raise jwt.InvalidTokenError("tenant_id and sub must be non-empty strings")
        return Caller(tenant_id=tenant_id, sub=sub)


class ShipmentSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_mst: str | None = None
    status: ShipmentStatus | None = None


def _require_valid_mst(mst: str) -> None:
    if not data.is_valid_mst(mst):
        raise HTTPException(
            status_code=400,
            detail=f"invalid MST {mst!r}: expected 10 digits, optionally followed by -NNN",
        )


_bearer = HTTPBearer(auto_error=False, description="The end user's JWT, forwarded by AgentHub")


def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The token's caller; every attempt is recorded, refused ones too."""
    verifier: TokenVerifier = request.app.state.verifier
    calls: CallLog = request.app.state.calls
    caller: Caller | None = None
    failure = "missing bearer token"
    if credentials is not None:
        try:
            caller = verifier.verify(credentials.credentials)
        except jwt.PyJWKClientConnectionError as exc:
            raise HTTPException(status_code=503, detail="signing keys unavailable") from exc
        except jwt.PyJWTError as exc:
            failure = f"invalid token: {exc}"
    calls.record(
        ReceivedCall(
            method=request.method,
            path=request.url.path,
            had_bearer=credentials is not None,
            authenticated=caller is not None,
            tenant_id=caller.tenant_id if caller else None,
            sub=caller.sub if caller else None,
        )
    )
    if caller is None:
        raise HTTPException(status_code=401, detail=failure, headers={"WWW-Authenticate": "Bearer"})
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]

router = APIRouter()


@router.get("/health", tags=["ops"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/erp/customers/{mst}/debt", tags=["erp"])
def customer_debt(mst: str, caller: CurrentCaller) -> CustomerDebt:
    _require_valid_mst(mst)
    customer = data.find_customer(tenant_id=caller.tenant_id, mst=mst)
    if customer is None:
        raise HTTPException(status_code=404, detail="customer not found")
    return customer


@router.get("/logistics/shipments/{tracking_id}", tags=["logistics"])
def shipment(tracking_id: str, caller: CurrentCaller) -> Shipment:
    found = data.find_shipment(tenant_id=caller.tenant_id, tracking_id=tracking_id)
    if found is None:
        raise HTTPException(status_code=404, detail="shipment not found")
    return found


@router.post("/logistics/shipments/search", tags=["logistics"])
def search_shipments(query: ShipmentSearch, caller: CurrentCaller) -> list[Shipment]:
    if query.customer_mst is not None:
        _require_valid_mst(query.customer_mst)
    return data.search_shipments(
        tenant_id=caller.tenant_id, customer_mst=query.customer_mst, status=query.status
    )


@router.get("/_calls", include_in_schema=False)
def received_calls(request: Request) -> list[dict[str, Any]]:
    calls: CallLog = request.app.state.calls
    return [asdict(call) for call in calls.snapshot()]


@router.delete("/_calls", status_code=204, include_in_schema=False)
def clear_received_calls(request: Request) -> None:
    calls: CallLog = request.app.state.calls
    calls.clear()


def create_business_api(
    *,
    public_key_pem: str | None = None,
    jwks_url: str | None = None,
    issuer: str,
    audience: str,
) -> FastAPI:
    """The demo ERP and logistics API, verifying tokens with a PEM key or a JWKS URL."""
    app = FastAPI(
        title="Demo business API",
        description="ERP customer debt and logistics shipments for the demo tenants.",
        version="1.0.0",
    )
    # Per-app state, so two instances (two tests, two stacks) never share keys or call logs.
    app.state.verifier = TokenVerifier(
        public_key_pem=public_key_pem, jwks_url=jwks_url, issuer=issuer, audience=audience
    )
    app.state.calls = CallLog()
    app.include_router(router)
    return app
