"""The HTTP tools' client: it connects only to addresses the SSRF guard has just checked.

HTTP tools send the user's JWT and tenant data to a URL a tenant admin typed. Provider SDKs,
which do the same towards a tenant's LLM `base_url`, get the same guard on httpx2 (the openai
SDK's library): agenthub.llm.transport.

Why at connect time: checking a URL and then letting the HTTP library resolve the host again
leaves a window for DNS rebinding (the name answers a public address to the check and
169.254.169.254 to the connect). Here the network backend resolves the host itself, checks every
address, and opens the TCP connection to one of those checked addresses, while TLS still uses
the host name for SNI and certificate checks (httpcore passes the origin host as
server_hostname). Pooled keep-alive connections are reused only for the same host, and were
checked when opened. Every redirect hop opens its connection through the same backend.

The client is built by the composition root (one per process); nothing is cached here. It
shares the root's one TLS context (agenthub.tls) with the provider clients.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Sequence
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpcore
import httpx

from agenthub.errors import SsrfBlockedError
from agenthub.tls import tls_context
from agenthub.tools.ssrf import Resolver, SsrfPolicy, system_resolver

POOL_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=10, keepalive_expiry=30)


class GuardedNetworkBackend(httpcore.NetworkBackend):
    """An httpcore backend that refuses (SsrfBlockedError) to connect where tools may not go."""

    def __init__(self, policy: SsrfPolicy, resolver: Resolver = system_resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._tcp = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self._policy.checked_addresses(host, port, resolver=self._resolver)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host!r}") from exc
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return self._tcp.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:  # try the host's next checked address
                failure = exc
        raise failure or httpcore.ConnectError(f"no address to connect to for {host!r}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that connects through GuardedNetworkBackend."""

    def __init__(
        self,
        *,
        policy: SsrfPolicy,
        resolver: Resolver = system_resolver,
        limits: httpx.Limits = POOL_LIMITS,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        tls = tls or tls_context()
        # Given the context, httpx builds none of its own for the pool replaced below.
        super().__init__(verify=tls, trust_env=False, limits=limits)
        # httpx 0.28 takes no httpcore network backend (encode/httpx#3180), so the pool it
        # built (no connection opened yet) is replaced by one that uses the guarded backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=tls,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy, resolver),
        )


def guarded_http_client(
    *,
    allow: Sequence[str],
    resolver: Resolver = system_resolver,
    tls: ssl.SSLContext | None = None,
) -> httpx.Client:
    """The client of HTTP tools: SSRF-guarded connections, no env proxies, no
    automatic redirects (a redirect to a forbidden address could never be followed anyway).

    Each call passes its own timeout; redirects are followed by the tool, hop by hop. The client
    is shared by every tenant and user, so it keeps no cookies: a session cookie one caller got
    must never ride along on another caller's request.
    """
    return httpx.Client(
        transport=GuardedTransport(
            policy=SsrfPolicy.from_allow(allow),
            resolver=resolver,
            tls=tls,
        ),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(10.0),
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )
