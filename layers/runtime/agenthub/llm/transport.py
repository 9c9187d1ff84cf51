"""The SSRF-guarded HTTP clients of provider SDKs, on httpx2.

openai 3.x is built on httpx2 (pydantic's fork of httpx). Handed an httpx client, it converts
every request, timeout and response between the two libraries; its own kind of client skips
that, and skips parsing responses for cookies when they set none (see bench/README.md for what
it saves a turn).

The guard is the one HTTP tools have (agenthub.tools.transport, on httpx): the network backend
resolves the host, checks every address with the `SsrfPolicy`, and opens the TCP connection to
one of the checked addresses, so a DNS answer that changes between check and connect (rebinding)
cannot reach a forbidden address; TLS still checks the host name. A refusal is an httpcore2
`ConnectError`, which the SDK reports as the provider being unreachable (the chat answers 502).
No redirects, no proxies from the environment, no cookie kept: one client serves every tenant.

This module imports neither httpx nor httpcore: a turn that calls no tool loads only httpx2's
stack, which the SDK loads anyway.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Sequence
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpcore2
import httpx2

from agenthub.errors import SsrfBlockedError
from agenthub.tools.ssrf import IPAddress, Resolver, SsrfPolicy, system_resolver

POOL_LIMITS = httpx2.Limits(max_connections=50, max_keepalive_connections=10, keepalive_expiry=30)
DEFAULT_TIMEOUT = httpx2.Timeout(10.0)  # each SDK call passes its own


def _checked(policy: SsrfPolicy, resolver: Resolver, host: str, port: int) -> list[IPAddress]:
    """The addresses the connection may go to; any refusal is a connection error for the SDK."""
    try:
        return policy.checked_addresses(host, port, resolver=resolver)
    except OSError as exc:
        raise httpcore2.ConnectError(f"cannot resolve {host!r}") from exc
    except SsrfBlockedError as exc:
        raise httpcore2.ConnectError(f"refused: {exc.message}") from exc


class ProviderNetworkBackend(httpcore2.NetworkBackend):
    """An httpcore2 backend that connects only to addresses the SSRF policy has just checked."""

    def __init__(self, policy: SsrfPolicy, resolver: Resolver = system_resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._tcp: httpcore2.NetworkBackend = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        failure: httpcore2.ConnectError | None = None
        for address in _checked(self._policy, self._resolver, host, port):
            try:
                return self._tcp.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore2.ConnectError as exc:  # try the host's next checked address
                failure = exc
        raise failure or httpcore2.ConnectError(f"no address to connect to for {host!r}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        raise httpcore2.ConnectError("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ProviderAsyncNetworkBackend(httpcore2.AsyncNetworkBackend):
    """The async twin of ProviderNetworkBackend (the SDK's async client: streaming turns)."""

    def __init__(self, policy: SsrfPolicy, resolver: Resolver = system_resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._tcp: httpcore2.AsyncNetworkBackend = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        import anyio.to_thread

        # DNS blocks: resolve and check off the event loop.
        addresses = await anyio.to_thread.run_sync(
            _checked, self._policy, self._resolver, host, port
        )
        failure: httpcore2.ConnectError | None = None
        for address in addresses:
            try:
                return await self._tcp.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore2.ConnectError as exc:
                failure = exc
        raise failure or httpcore2.ConnectError(f"no address to connect to for {host!r}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        import anyio

        await anyio.sleep(seconds)


def _pool_settings(tls: ssl.SSLContext) -> dict[str, Any]:
    return {
        "ssl_context": tls,
        "max_connections": POOL_LIMITS.max_connections,
        "max_keepalive_connections": POOL_LIMITS.max_keepalive_connections,
        "keepalive_expiry": POOL_LIMITS.keepalive_expiry,
    }


def _client_settings() -> dict[str, Any]:
    return {
        "trust_env": False,  # no proxies from the environment
        "follow_redirects": False,  # a redirect could point anywhere: never followed
        "timeout": DEFAULT_TIMEOUT,
        # One client serves every tenant: a cookie one provider response set (a load
        # balancer's, say) must never ride along on another tenant's request.
        "cookies": CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    }


def provider_http_client(
    *, allow: Sequence[str], tls: ssl.SSLContext, resolver: Resolver = system_resolver
) -> httpx2.Client:
    """The sync client of provider SDKs: guarded connections, no redirects, no env proxies."""
    transport = httpx2.HTTPTransport(verify=tls, trust_env=False, limits=POOL_LIMITS)
    # httpx2 takes no httpcore2 network backend either: its pool (no connection opened yet) is
    # replaced by one that connects through the guarded backend.
    transport._pool = httpcore2.ConnectionPool(
        **_pool_settings(tls),
        network_backend=ProviderNetworkBackend(SsrfPolicy.from_allow(allow), resolver),
    )
    return httpx2.Client(transport=transport, **_client_settings())


def provider_async_http_client(
    *, allow: Sequence[str], tls: ssl.SSLContext, resolver: Resolver = system_resolver
) -> httpx2.AsyncClient:
    """The async twin of `provider_http_client`."""
    transport = httpx2.AsyncHTTPTransport(verify=tls, trust_env=False, limits=POOL_LIMITS)
    transport._pool = httpcore2.AsyncConnectionPool(
        **_pool_settings(tls),
        network_backend=ProviderAsyncNetworkBackend(SsrfPolicy.from_allow(allow), resolver),
    )
    return httpx2.AsyncClient(transport=transport, **_client_settings())
