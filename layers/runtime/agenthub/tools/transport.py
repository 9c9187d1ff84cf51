"""HTTP clients that connect only to addresses the SSRF guard has just checked.

Used by HTTP tools and by every provider SDK that talks to a tenant-chosen endpoint (the
LLM `base_url`): both send tenant data to a URL a tenant admin typed.

On httpx2, the maintained fork of httpx that the openai SDK and langsmith are built on: handed
an httpx client, openai 3.x converts every request and response between the two libraries, and
httpx2 does not parse a response for cookies that sets none. One HTTP stack serves both kinds of
call.

Why at connect time: checking a URL and then letting the HTTP library resolve the host again
leaves a window for DNS rebinding (the name answers a public address to the check and
169.254.169.254 to the connect). Here the network backend resolves the host itself, checks every
address, and opens the TCP connection to one of those checked addresses, while TLS still uses
the host name for SNI and certificate checks (httpcore2 passes the origin host as
server_hostname). Pooled keep-alive connections are reused only for the same host, and were
checked when opened. Every redirect hop opens its connection through the same backend.

The clients are built by the composition root (one per process); nothing is cached here. They
share the root's one TLS context (agenthub.tls).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Sequence
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpcore2
import httpx2

from agenthub.errors import SsrfBlockedError
from agenthub.tls import tls_context
from agenthub.tools.ssrf import Resolver, SsrfPolicy, system_resolver

POOL_LIMITS = httpx2.Limits(max_connections=50, max_keepalive_connections=10, keepalive_expiry=30)


class GuardedNetworkBackend(httpcore2.NetworkBackend):
    """An httpcore2 backend that refuses (SsrfBlockedError) to connect where tools may not go.

    `refuse_as_connect_error`: raise the refusal as httpcore2.ConnectError instead, for provider
    SDKs, which then report it as the endpoint being unreachable (a 502 for the chat), not as
    an exception they don't know.
    """

    def __init__(
        self,
        policy: SsrfPolicy,
        resolver: Resolver = system_resolver,
        *,
        refuse_as_connect_error: bool = False,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._refuse_as_connect_error = refuse_as_connect_error
        self._tcp = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        try:
            addresses = self._policy.checked_addresses(host, port, resolver=self._resolver)
        except OSError as exc:
            raise httpcore2.ConnectError(f"cannot resolve {host!r}") from exc
        except SsrfBlockedError as exc:
            if self._refuse_as_connect_error:
                raise httpcore2.ConnectError(f"refused: {exc.message}") from exc
            raise
        failure: httpcore2.ConnectError | None = None
        for address in addresses:
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


class GuardedTransport(httpx2.HTTPTransport):
    """httpx2's transport over a connection pool that connects through GuardedNetworkBackend."""

    def __init__(
        self,
        *,
        policy: SsrfPolicy,
        resolver: Resolver = system_resolver,
        limits: httpx2.Limits = POOL_LIMITS,
        refuse_as_connect_error: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        tls = tls or tls_context()
        # Given the context, httpx2 builds none of its own for the pool replaced below.
        super().__init__(verify=tls, trust_env=False, limits=limits)
        # httpx2 takes no network backend (nor did httpx 0.28, encode/httpx#3180): the pool it
        # built (no connection opened yet) is replaced by one that uses the guarded backend.
        self._pool = httpcore2.ConnectionPool(
            ssl_context=tls,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(
                policy, resolver, refuse_as_connect_error=refuse_as_connect_error
            ),
        )


def guarded_http_client(
    *,
    allow: Sequence[str],
    resolver: Resolver = system_resolver,
    refuse_as_connect_error: bool = False,
    tls: ssl.SSLContext | None = None,
) -> httpx2.Client:
    """A client for HTTP tools and provider SDKs: SSRF-guarded connections, no env proxies, no
    automatic redirects (a redirect to a forbidden address could never be followed anyway).

    Each call passes its own timeout; redirects are followed by the tool, hop by hop. The client
    is shared by every tenant and user, so it keeps no cookies: a session cookie one caller got
    must never ride along on another caller's request.
    """
    return httpx2.Client(
        transport=GuardedTransport(
            policy=SsrfPolicy.from_allow(allow),
            resolver=resolver,
            refuse_as_connect_error=refuse_as_connect_error,
            tls=tls,
        ),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx2.Timeout(10.0),
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )


class GuardedAsyncNetworkBackend(httpcore2.AsyncNetworkBackend):
    """The async twin of GuardedNetworkBackend (provider SDKs' async clients)."""

    def __init__(
        self,
        policy: SsrfPolicy,
        resolver: Resolver = system_resolver,
        *,
        refuse_as_connect_error: bool = False,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._refuse_as_connect_error = refuse_as_connect_error
        self._tcp = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        import anyio.to_thread

        try:
            # DNS blocks: resolve and check off the event loop.
            addresses = await anyio.to_thread.run_sync(
                lambda: self._policy.checked_addresses(host, port, resolver=self._resolver)
            )
        except OSError as exc:
            raise httpcore2.ConnectError(f"cannot resolve {host!r}") from exc
        except SsrfBlockedError as exc:
            if self._refuse_as_connect_error:
                raise httpcore2.ConnectError(f"refused: {exc.message}") from exc
            raise
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


class GuardedAsyncTransport(httpx2.AsyncHTTPTransport):
    """httpx2's async transport over a pool that connects through GuardedAsyncNetworkBackend."""

    def __init__(
        self,
        *,
        policy: SsrfPolicy,
        resolver: Resolver = system_resolver,
        limits: httpx2.Limits = POOL_LIMITS,
        refuse_as_connect_error: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        tls = tls or tls_context()
        # Given the context, httpx2 builds none of its own for the pool replaced below.
        super().__init__(verify=tls, trust_env=False, limits=limits)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=tls,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedAsyncNetworkBackend(
                policy, resolver, refuse_as_connect_error=refuse_as_connect_error
            ),
        )


def guarded_async_http_client(
    *,
    allow: Sequence[str],
    resolver: Resolver = system_resolver,
    refuse_as_connect_error: bool = False,
    tls: ssl.SSLContext | None = None,
) -> httpx2.AsyncClient:
    """The async twin of `guarded_http_client`: guarded connections, no redirects, no cookies."""
    return httpx2.AsyncClient(
        transport=GuardedAsyncTransport(
            policy=SsrfPolicy.from_allow(allow),
            resolver=resolver,
            refuse_as_connect_error=refuse_as_connect_error,
            tls=tls,
        ),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx2.Timeout(10.0),
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )
