"""Fixtures for chat tests: a seeded database, tokens, and the chat handler."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from agenthub.auth.devkeys import mint_token
from tests.conftest import TEST_AUDIENCE, TEST_ISSUER
from tests.support.lambda_events import HttpResult, invoke, load_handler, rest_event


@pytest.fixture
def seeded(app_env: None, business_api_server: Any) -> Iterator[None]:
    """The demo seed, its tools pointing at the real demo business API on loopback."""
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.services.seed import seed_demo

    with transaction(get_sessionmaker()) as db:
        seed_demo(db, keyring=get_keyring(), api_url=business_api_server.base_url)
    yield


@pytest.fixture
def token_for(rsa_private_key: rsa.RSAPrivateKey) -> Callable[..., str]:
    # The key object, not its PEM: jwt.encode signs with either, and parsing the PEM (with its
    # RSA consistency check) costs ~0.1 s a token, for tests that mint one per request.
    key = cast(str, rsa_private_key)

    def make(tenant_id: str = "acme", user_id: str = "alice", roles: tuple[str, ...] = ()) -> str:
        return mint_token(
            private_key_pem=key,
            kid=None,
            tenant_id=tenant_id,
            user_id=user_id,
            roles=roles,
            ttl_s=3600,
            issuer=TEST_ISSUER,
            audience=TEST_AUDIENCE,
        )

    return make


@pytest.fixture(scope="session")
def chat_handler() -> ModuleType:
    return load_handler("chat")


@pytest.fixture
def chat(chat_handler: ModuleType, token_for: Callable[..., str]) -> Callable[..., HttpResult]:
    """POST a message through the chat Lambda handler as (tenant, user)."""

    def send(
        message: str,
        *,
        tenant: str = "acme",
        user: str = "alice",
        session_id: str | None = None,
        token: str | None = None,
    ) -> HttpResult:
        body: dict[str, Any] = {"message": message}
        if session_id is not None:
            body["session_id"] = session_id
        event = rest_event(
            "POST",
            f"/api/{tenant}/chat",
            body=body,
            token=token or token_for(tenant, user),
            resource="/api/{tenant_id}/chat",
            path_parameters={"tenant_id": tenant},
        )
        return invoke(chat_handler, event)

    return send
