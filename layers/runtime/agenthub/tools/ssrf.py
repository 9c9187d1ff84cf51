"""SSRF guard for HTTP tools: which URLs and network addresses a tool may reach.

Only http and https. The host is resolved and EVERY address it resolves to must be public
(not private, loopback, link-local, multicast, reserved, unspecified, CGNAT, IPv4-mapped IPv6 or
a cloud metadata address), unless `settings.tools.ssrf_allow` lists the host or a CIDR holding
the address. `check_url` runs when a tool is saved; at call time the transport
(`transport.GuardedNetworkBackend`) runs `SsrfPolicy.checked_addresses` for every connection,
including each redirect hop, and connects only to the addresses it checked.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import httpx2

from agenthub.errors import ConfigurationError, SsrfBlockedError

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
# (host, port) -> the host's addresses as text. Injected in tests: no DNS there.
Resolver = Callable[[str, int], Sequence[str]]

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
METADATA_ADDRESSES = frozenset(
    ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, Azure, GCP, OpenStack
        "fd00:ec2::254",  # AWS over IPv6
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
CGNAT = ip_network("100.64.0.0/10")
SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (IPv4 and IPv6), without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # An IPv6 link-local answer may carry a zone ("fe80::1%eth0"): the zone is not the address.
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def blocked_reason(address: IPAddress) -> str | None:
    """Why a tool may not reach `address` by default, or None for a public address."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if address.sixtofour is not None and blocked_reason(address.sixtofour):
            return "a 6to4 address embedding a non-public IPv4 address"
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.version == 4 and address in CGNAT, "a shared (CGNAT) address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "a non-public address"),
    )
    return next((reason for blocked, reason in checks if blocked), None)


@dataclass(frozen=True)
class SsrfPolicy:
    """The allow-list (`settings.tools.ssrf_allow`): host names and CIDRs let through."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_allow(cls, allow: Iterable[str]) -> SsrfPolicy:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in allow:
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ip_network(entry, strict=False))
            except ValueError:
                if "/" in entry or ":" in entry:
                    raise ConfigurationError(
                        f"tools.ssrf_allow: {entry!r} is neither a host name nor a CIDR"
                    ) from None
                hosts.add(normal_host(entry))
        return cls(allowed_hosts=frozenset(hosts), allowed_networks=tuple(networks))

    def allows_address(self, address: IPAddress) -> bool:
        return any(
            address.version == network.version and address in network
            for network in self.allowed_networks
        )

    def check_address(self, host: str, address: IPAddress) -> None:
        if self.allows_address(address):
            return
        reason = blocked_reason(address)
        if reason is not None:
            # The address itself stays out of the message: the agent may repeat it to the user.
            verb = "is" if host == str(address) else "resolves to"
            raise SsrfBlockedError(f"{host} {verb} {reason}: tools may not reach it")

    def checked_addresses(self, host: str, port: int, *, resolver: Resolver) -> list[IPAddress]:
        """Resolve `host` and check every address: the only addresses a tool may connect to.

        Raises SsrfBlockedError when any address is refused; the resolver's OSError (the name
        does not resolve) propagates, so the caller decides what an unresolvable host means.
        """
        name = normal_host(host)
        literal = _ip_literal(name)
        if literal is not None:
            self.check_address(name, literal)
            return [literal]
        if name in METADATA_HOSTS and name not in self.allowed_hosts:
            raise SsrfBlockedError(f"{name!r} is a cloud metadata service; tools may not reach it")
        addresses = [ip_address(answer) for answer in resolver(name, port)]
        if not addresses:
            raise OSError(f"no address for {name!r}")
        if name not in self.allowed_hosts:
            for address in addresses:
                self.check_address(name, address)
        return addresses


def parse_target(url: str) -> Target:
    """Scheme, host and port of `url`, parsed as the tools' client (httpx2) parses it; refuses
    what tools may not use."""
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, TypeError) as exc:
        raise SsrfBlockedError("the URL is not valid") from exc
    if parsed.scheme not in SCHEMES:
        raise SsrfBlockedError(
            f"only http and https URLs are allowed, not {parsed.scheme or 'a relative URL'!r}"
        )
    if not parsed.raw_host:
        raise SsrfBlockedError("the URL has no host")
    if parsed.userinfo:
        raise SsrfBlockedError("credentials in the URL are not allowed")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return Target(scheme=parsed.scheme, host=parsed.raw_host.decode("ascii"), port=port)


def check_url(url: str, *, allow: Sequence[str], resolver: Resolver = system_resolver) -> None:
    """Refuse (SsrfBlockedError) a URL a tool may not call: checked when a tool is saved.

    A host that does not resolve is refused too: it cannot be checked.
    """
    target = parse_target(url)
    policy = SsrfPolicy.from_allow(allow)
    try:
        policy.checked_addresses(target.host, target.port, resolver=resolver)
    except OSError as exc:
        raise SsrfBlockedError(
            f"{target.host!r} does not resolve, so it cannot be checked"
        ) from exc


def normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ip_address(host)
    except ValueError:
        return None
