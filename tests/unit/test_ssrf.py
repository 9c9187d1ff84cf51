"""The SSRF guard: only public http(s) targets, unless the allow-list says otherwise.

No DNS and no sockets here: every test injects its resolver.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence

import httpcore2
import httpx2
import pytest

from agenthub.errors import ConfigurationError, SsrfBlockedError
from agenthub.tls import tls_context
from agenthub.tools.ssrf import SsrfPolicy, check_url, parse_target
from agenthub.tools.transport import (
    GuardedAsyncNetworkBackend,
    GuardedNetworkBackend,
    guarded_async_http_client,
    guarded_http_client,
)


def resolving_to(*addresses: str) -> object:
    """A resolver answering `addresses` for any name, recording what it was asked."""
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> Sequence[str]:
        asked.append((host, port))
        return list(addresses)

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


def not_resolving(host: str, port: int) -> Sequence[str]:
    raise OSError("Name or service not known")


PUBLIC = "93.184.216.34"


def test_a_public_https_url_passes() -> None:
    resolver = resolving_to(PUBLIC)
    check_url("https://erp.example.com/customers/1/debt", allow=[], resolver=resolver)
    assert resolver.asked == [("erp.example.com", 443)]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.10", "private"),
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("169.254.10.10", "link-local"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("100.100.100.200", "metadata"),
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("198.18.0.1", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd00:ec2::254", "metadata"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("::ffff:93.184.216.34", "IPv4-mapped"),
        ("2002:7f00:1::", "6to4"),
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_refused(address: str, reason: str) -> None:
    with pytest.raises(SsrfBlockedError) as caught:
        check_url("https://erp.example.com/x", allow=[], resolver=resolving_to(address))
    assert reason in caught.value.message


def test_every_resolved_address_is_checked_not_only_the_first() -> None:
    with pytest.raises(SsrfBlockedError):
        check_url("https://erp.example.com/", allow=[], resolver=resolving_to(PUBLIC, "10.0.0.1"))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:169.254.169.254]/",
        "http://10.0.0.1/",
    ],
)
def test_an_ip_literal_host_is_checked_without_dns(url: str) -> None:
    resolver = resolving_to(PUBLIC)
    with pytest.raises(SsrfBlockedError):
        check_url(url, allow=[], resolver=resolver)
    assert resolver.asked == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "host", ["metadata.google.internal", "METADATA.google.internal.", "metadata.goog"]
)
def test_metadata_host_names_are_refused_whatever_they_resolve_to(host: str) -> None:
    with pytest.raises(SsrfBlockedError) as caught:
        check_url(f"http://{host}/computeMetadata/v1/", allow=[], resolver=resolving_to(PUBLIC))
    assert "metadata" in caught.value.message


@pytest.mark.parametrize(
    "url", ["ftp://erp.example.com/", "file:///etc/passwd", "gopher://x/", "/relative", "erp"]
)
def test_only_http_and_https_are_allowed(url: str) -> None:
    with pytest.raises(SsrfBlockedError):
        check_url(url, allow=[], resolver=resolving_to(PUBLIC))


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(SsrfBlockedError) as caught:
        check_url("https://user:pw@erp.example.com/", allow=[], resolver=resolving_to(PUBLIC))
    assert "credentials" in caught.value.message


def test_a_host_that_does_not_resolve_is_refused_since_it_cannot_be_checked() -> None:
    with pytest.raises(SsrfBlockedError) as caught:
        check_url("https://nowhere.example/", allow=[], resolver=not_resolving)
    assert "does not resolve" in caught.value.message


def test_an_allowed_cidr_lets_its_addresses_through() -> None:
    check_url("http://erp.internal/", allow=["10.20.0.0/16"], resolver=resolving_to("10.20.1.5"))
    check_url("http://127.0.0.1:8000/", allow=["127.0.0.1/32"], resolver=not_resolving)


def test_an_allowed_cidr_does_not_let_other_addresses_through() -> None:
    with pytest.raises(SsrfBlockedError):
        check_url(
            "http://erp.internal/", allow=["10.20.0.0/16"], resolver=resolving_to("10.21.0.1")
        )
    with pytest.raises(SsrfBlockedError):
        check_url(
            "http://erp.internal/",
            allow=["10.20.0.0/16"],
            resolver=resolving_to("10.20.0.1", "192.168.0.1"),
        )


def test_an_allowed_ipv6_cidr_matches_ipv6_addresses() -> None:
    check_url("http://[fd12::5]/", allow=["fd12::/16"], resolver=not_resolving)
    with pytest.raises(SsrfBlockedError):
        check_url("http://[fd13::5]/", allow=["fd12::/16"], resolver=not_resolving)


def test_an_allowed_host_name_is_let_through_whatever_it_resolves_to() -> None:
    check_url("http://LocalHost:8080/", allow=["localhost"], resolver=resolving_to("127.0.0.1"))
    with pytest.raises(SsrfBlockedError):
        check_url("http://other.local/", allow=["localhost"], resolver=resolving_to("127.0.0.1"))


def test_a_malformed_allow_entry_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        SsrfPolicy.from_allow(["10.0.0.0/33"])


def test_parse_target_gives_the_default_port_per_scheme() -> None:
    assert parse_target("https://erp.example.com/a").port == 443
    assert parse_target("http://erp.example.com/a").port == 80
    assert parse_target("http://[::1]:81/").host == "::1"


# --- at call time: the transport connects only to the addresses it checked ----------------------


class RecordingTcp:
    """Stands in for the socket layer: records where it was asked to connect."""

    def __init__(self, refuse: set[str] = frozenset()) -> None:  # type: ignore[assignment]
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
    resolver: object, allow: Sequence[str] = (), *, refuse_as_connect_error: bool = False
) -> tuple[GuardedNetworkBackend, RecordingTcp]:
    backend = GuardedNetworkBackend(
        SsrfPolicy.from_allow(allow),
        resolver,  # type: ignore[arg-type]
        refuse_as_connect_error=refuse_as_connect_error,
    )
    tcp = RecordingTcp()
    backend._tcp = tcp  # type: ignore[assignment]
    return backend, tcp


def test_the_connection_goes_to_the_checked_address_not_a_fresh_lookup() -> None:
    # GIVEN a name that resolves once to a public address
    backend, tcp = backend_with(resolving_to(PUBLIC))
    # WHEN the pool opens a connection to it
    assert backend.connect_tcp("erp.example.com", 443) == "stream"
    # THEN the socket layer is handed the checked IP, not the name (no second lookup to rebind)
    assert tcp.connected == [(PUBLIC, 443)]


def test_a_rebinding_answer_at_connect_time_is_refused_before_any_connection() -> None:
    backend, tcp = backend_with(resolving_to("169.254.169.254"))
    with pytest.raises(SsrfBlockedError):
        backend.connect_tcp("erp.example.com", 443)
    assert tcp.connected == []


def test_the_next_checked_address_is_tried_when_one_refuses() -> None:
    backend, tcp = backend_with(resolving_to("2001:db8::1", PUBLIC))
    tcp.refuse = {"2001:db8::1"}
    with pytest.raises(SsrfBlockedError):  # 2001:db8::/32 is documentation space: not public
        backend.connect_tcp("erp.example.com", 443)
    backend, tcp = backend_with(resolving_to("2606:4700::1", PUBLIC))
    tcp.refuse = {"2606:4700::1"}
    assert backend.connect_tcp("erp.example.com", 443) == "stream"
    assert tcp.connected == [("2606:4700::1", 443), (PUBLIC, 443)]


def test_a_name_that_does_not_resolve_at_connect_time_is_a_connect_error() -> None:
    backend, _ = backend_with(not_resolving)
    with pytest.raises(httpcore2.ConnectError):
        backend.connect_tcp("erp.example.com", 443)


def test_unix_sockets_are_refused() -> None:
    backend, _ = backend_with(resolving_to(PUBLIC))
    with pytest.raises(httpcore2.ConnectError):
        backend.connect_unix_socket("/var/run/docker.sock")


def test_the_guarded_client_refuses_a_blocked_host_before_touching_the_network() -> None:
    # The unit tier blocks sockets: reaching connect() would fail with another error.
    client = guarded_http_client(allow=[], resolver=resolving_to("10.0.0.7"))
    with client, pytest.raises(SsrfBlockedError):
        client.get("http://erp.example.com/customers")


def test_the_guarded_client_ignores_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    resolver = resolving_to("10.0.0.7")
    client = guarded_http_client(allow=[], resolver=resolver)
    with client, pytest.raises(SsrfBlockedError):
        client.get("http://erp.example.com/customers")
    assert resolver.asked == [("erp.example.com", 80)]  # type: ignore[attr-defined]
    assert not client.trust_env
    assert client.follow_redirects is False
    assert isinstance(client._transport, httpx2.HTTPTransport)


def test_guarded_clients_given_one_tls_context_load_the_ca_bundle_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Loading the CA bundle costs ~20 ms of a cold start: the composition root builds one TLS
    context, and no guarded transport builds another (the tools' client, the providers' sync and
    async clients, and the pools they replace)."""
    loads: list[object] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(context: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append(context)
        load(context, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    tls = tls_context()

    clients = [
        guarded_http_client(allow=[], tls=tls),
        guarded_http_client(allow=[], tls=tls, refuse_as_connect_error=True),
        guarded_async_http_client(allow=[], tls=tls, refuse_as_connect_error=True),
    ]

    assert loads == [tls]
    for client in clients:
        assert client._transport._pool._ssl_context is tls  # type: ignore[attr-defined]
    assert tls.verify_mode == ssl.CERT_REQUIRED and tls.check_hostname


# --- provider SDKs' clients: the same guard, a refusal being a connection error ----------------
# The SDK reports a connection error as the provider being unreachable (the chat's 502). The
# end-to-end checks (a redirect to a forbidden address, sync and async) are in
# tests/integration/test_provider_transport.py.


@pytest.mark.parametrize("address", ["169.254.169.254", "10.0.0.7", "127.0.0.1", "::1"])
def test_for_providers_a_forbidden_address_is_a_connect_error_before_any_connection(
    address: str,
) -> None:
    backend, tcp = backend_with(resolving_to(address), refuse_as_connect_error=True)
    with pytest.raises(httpcore2.ConnectError, match="refused"):
        backend.connect_tcp("llm.example.com", 443)
    assert tcp.connected == []


def test_the_async_backend_checks_the_same_way() -> None:
    def async_backend(address: str) -> tuple[GuardedAsyncNetworkBackend, AsyncRecordingTcp]:
        backend = GuardedAsyncNetworkBackend(
            SsrfPolicy.from_allow([]),
            resolving_to(address),  # type: ignore[arg-type]
            refuse_as_connect_error=True,
        )
        backend._tcp = tcp = AsyncRecordingTcp()  # type: ignore[assignment]
        return backend, tcp

    backend, tcp = async_backend(PUBLIC)
    assert asyncio.run(backend.connect_tcp("llm.example.com", 443)) == "stream"  # type: ignore[comparator-overlap]
    assert tcp.connected == [(PUBLIC, 443)]

    refusing, tcp = async_backend("169.254.169.254")
    with pytest.raises(httpcore2.ConnectError, match="refused"):
        asyncio.run(refusing.connect_tcp("llm.example.com", 443))
    assert tcp.connected == []


def test_a_forbidden_base_url_fails_in_the_provider_client_as_a_connect_error() -> None:
    client = guarded_http_client(
        allow=[],
        tls=tls_context(),
        resolver=resolving_to("10.0.0.7"),  # type: ignore[arg-type]
        refuse_as_connect_error=True,
    )
    with client, pytest.raises(httpx2.ConnectError):
        client.post("http://llm.example.com/v1/chat/completions", json={})


def test_the_provider_clients_ignore_proxies_follow_no_redirect_and_keep_no_cookie(
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
