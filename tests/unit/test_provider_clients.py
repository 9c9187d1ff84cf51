"""The provider SDKs' clients carry the tools' SSRF guard, a refusal being a connection error.

No DNS and no sockets here: every test injects its resolver and stands in for the socket layer.
The end-to-end checks (a redirect to a forbidden address, a forbidden base_url, sync and async)
are in tests/integration/test_provider_transport.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpcore2
import httpx2
import pytest

from agenthub.tls import tls_context
from agenthub.tools.ssrf import SsrfPolicy
from agenthub.tools.transport import (
    GuardedAsyncNetworkBackend,
    GuardedNetworkBackend,
    guarded_async_http_client,
    guarded_http_client,
)

PUBLIC = "93.184.216.34"


def resolving_to(*addresses: str) -> object:
    def resolve(host: str, port: int) -> Sequence[str]:
        return list(addresses)

    return resolve


def not_resolving(host: str, port: int) -> Sequence[str]:
    raise OSError("Name or service not known")


class RecordingTcp:
    """Stands in for the socket layer: records where it was asked to connect."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.connected: list[tuple[str, int]] = []
        self.refuse = refuse

    def connect_tcp(self, host: str, port: int, *args: object) -> str:
        self.connected.append((host, port))
        if host in self.refuse:
            raise httpcore2.ConnectError("refused")
        return "stream"


class AsyncRecordingTcp(RecordingTcp):
    async def connect_tcp(self, host: str, port: int, *args: object) -> str:  # type: ignore[override]
        return super().connect_tcp(host, port)


def backend_with(
    resolver: object, refuse: frozenset[str] = frozenset()
) -> tuple[GuardedNetworkBackend, RecordingTcp]:
    backend = GuardedNetworkBackend(
        SsrfPolicy.from_allow([]),
        resolver,  # type: ignore[arg-type]
        refuse_as_connect_error=True,
    )
    backend._tcp = tcp = RecordingTcp(refuse)  # type: ignore[assignment]
    return backend, tcp


def test_the_connection_goes_to_the_checked_address_not_a_fresh_lookup() -> None:
    backend, tcp = backend_with(resolving_to(PUBLIC))
    assert backend.connect_tcp("llm.example.com", 443) == "stream"
    assert tcp.connected == [(PUBLIC, 443)]


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.7", "127.0.0.1", "::1"])
def test_a_forbidden_address_is_a_connect_error_before_any_connection(address: str) -> None:
    """The SDK reports a connect error as the provider being unreachable (the chat's 502)."""
    backend, tcp = backend_with(resolving_to(address))
    with pytest.raises(httpcore2.ConnectError, match="refused"):
        backend.connect_tcp("llm.example.com", 443)
    assert tcp.connected == []


def test_the_next_checked_address_is_tried_when_one_refuses() -> None:
    backend, tcp = backend_with(resolving_to("2606:4700::1", PUBLIC), frozenset({"2606:4700::1"}))
    assert backend.connect_tcp("llm.example.com", 443) == "stream"
    assert tcp.connected == [("2606:4700::1", 443), (PUBLIC, 443)]


def test_a_name_that_does_not_resolve_and_a_unix_socket_are_connect_errors() -> None:
    backend, tcp = backend_with(not_resolving)
    with pytest.raises(httpcore2.ConnectError, match="cannot resolve"):
        backend.connect_tcp("llm.example.com", 443)
    with pytest.raises(httpcore2.ConnectError, match="unix sockets"):
        backend.connect_unix_socket("/var/run/docker.sock")
    assert tcp.connected == []


def test_the_async_backend_checks_the_same_way() -> None:
    backend = GuardedAsyncNetworkBackend(
        SsrfPolicy.from_allow([]),
        resolving_to(PUBLIC),  # type: ignore[arg-type]
        refuse_as_connect_error=True,
    )
    backend._tcp = tcp = AsyncRecordingTcp()  # type: ignore[assignment]
    assert asyncio.run(backend.connect_tcp("llm.example.com", 443)) == "stream"  # type: ignore[comparator-overlap]
    assert tcp.connected == [(PUBLIC, 443)]

    refusing = GuardedAsyncNetworkBackend(
        SsrfPolicy.from_allow([]),
        resolving_to("169.254.169.254"),  # type: ignore[arg-type]
        refuse_as_connect_error=True,
    )
    refusing._tcp = tcp = AsyncRecordingTcp()  # type: ignore[assignment]
    with pytest.raises(httpcore2.ConnectError, match="refused"):
        asyncio.run(refusing.connect_tcp("llm.example.com", 443))
    assert tcp.connected == []


def test_a_forbidden_base_url_fails_in_the_client_as_a_connect_error() -> None:
    client = guarded_http_client(
        allow=[],
        tls=tls_context(),
        resolver=resolving_to("10.0.0.7"),  # type: ignore[arg-type]
        refuse_as_connect_error=True,
    )
    with client, pytest.raises(httpx2.ConnectError):
        client.post("http://llm.example.com/v1/chat/completions", json={})


def test_the_clients_ignore_proxies_follow_no_redirect_and_keep_no_cookie(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    tls = tls_context()
    for client in (
        guarded_http_client(allow=[], tls=tls, refuse_as_connect_error=True),
        guarded_async_http_client(allow=[], tls=tls, refuse_as_connect_error=True),
    ):
        assert not client.trust_env
        assert client.follow_redirects is False
        # One client serves every tenant: a provider's cookie must not reach another tenant.
        request = httpx2.Request("POST", "https://llm.example.com/v1/chat/completions")
        set_cookie = {"set-cookie": "__cf_bm=abc; Path=/; Domain=llm.example.com; Secure"}
        client.cookies.extract_cookies(httpx2.Response(200, headers=set_cookie, request=request))
        assert len(client.cookies) == 0
