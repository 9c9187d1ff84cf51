"""A tenant data source's PostgreSQL URL: parsed, limited to safe parameters, masked, host-checked.

Only `postgresql://` / `postgres://` URLs with one host. Connection parameters that read local
files (`passfile`, `sslkey`, `service`...), set server options (`options`) or pick the address
(`hostaddr`, which the pool sets itself after the SSRF check) are refused. The host passes the
same SSRF policy as tool URLs (`settings.tools.ssrf_allow`); a Unix socket directory reaches this
machine, so it is allowed only where loopback is (the local demo's embedded PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import ip_address
from urllib.parse import quote, urlencode

from agenthub.errors import SsrfBlockedError, ValidationFailedError
from agenthub.tools.ssrf import IPAddress, Resolver, SsrfPolicy, system_resolver

MAX_URL_CHARS = 2000
SCHEMES = ("postgresql://", "postgres://")
ALLOWED_PARAMETERS = frozenset(
    {
        "host",
        "port",
        "dbname",
        "user",
        "password",
        "sslmode",
        "connect_timeout",
        "application_name",
        "channel_binding",
        "gssencmode",
        "sslnegotiation",
    }
)
_LOOPBACK = ip_address("127.0.0.1")


@dataclass(frozen=True)
class DataSourceUrl:
    """The parsed connection parameters (the password among them: keep this in memory only)."""

    params: dict[str, str] = field(repr=False)

    @property
    def host(self) -> str:
        return self.params.get("host", "")

    @property
    def port(self) -> int:
        return int(self.params.get("port") or 5432)

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    def masked(self) -> str:
        """The URL to show: everything but the password, which is `***` when there is one."""
        user = quote(self.params.get("user", ""), safe="")
        secret = ":***" if self.params.get("password") else ""
        credentials = f"{user}{secret}@" if user or secret else ""
        netloc = "" if self.is_socket else _bracketed(self.host)
        if not self.is_socket and "port" in self.params:
            netloc += f":{self.params['port']}"
        query = {k: v for k, v in sorted(self.params.items()) if k not in _IN_PATH}
        if self.is_socket:
            query = {"host": self.host, **{k: v for k, v in query.items() if k != "host"}}
        suffix = f"?{urlencode(query, safe='/')}" if query else ""
        return f"postgresql://{credentials}{netloc}/{quote(self.params.get('dbname', ''))}{suffix}"


_IN_PATH = frozenset({"host", "port", "dbname", "user", "password"})


def parse_data_source_url(url: str) -> DataSourceUrl:
    """The URL's parameters, or ValidationFailedError (field `url`) saying what is wrong."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    if not isinstance(url, str) or not url.strip():
        raise _invalid("the URL is empty")
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise _invalid(f"the URL is longer than {MAX_URL_CHARS} characters")
    if not url.startswith(SCHEMES):
        raise _invalid("a PostgreSQL URL starts with postgresql://")
    try:
        raw = conninfo_to_dict(url)
    except ProgrammingError:
        raise _invalid("the URL is not a valid PostgreSQL URL") from None
    params = {key: str(value) for key, value in raw.items() if value is not None}
    refused = sorted(set(params) - ALLOWED_PARAMETERS)
    if refused:
        raise _invalid(f"the URL parameter(s) {', '.join(refused)} are not allowed")
    host = params.get("host", "")
    if not host:
        raise _invalid("the URL has no host")
    if "," in host or "," in params.get("port", ""):
        raise _invalid("one host only")
    if not params.get("port", "5432").isdigit() or not 0 < int(params.get("port", "5432")) < 65536:
        raise _invalid("the port is not a number between 1 and 65535")
    if not params.get("dbname"):
        raise _invalid("the URL names no database")
    return DataSourceUrl(params=params)


def checked_addresses(
    source: DataSourceUrl, *, allow: Sequence[str], resolver: Resolver = system_resolver
) -> list[IPAddress]:
    """The addresses the data source may be reached at ([] for an allowed Unix socket);
    SsrfBlockedError when its host is refused or does not resolve."""
    policy = SsrfPolicy.from_allow(allow)
    if source.is_socket:
        if policy.allows_address(_LOOPBACK) or "localhost" in policy.allowed_hosts:
            return []
        raise SsrfBlockedError("a Unix socket reaches this machine: data sources may not use it")
    try:
        return policy.checked_addresses(source.host, source.port, resolver=resolver)
    except OSError as exc:
        raise SsrfBlockedError(
            f"{source.host!r} does not resolve, so it cannot be checked"
        ) from exc


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _invalid(message: str) -> ValidationFailedError:
    return ValidationFailedError(
        f"invalid data source: url: {message}", details=[{"field": "url", "message": message}]
    )
