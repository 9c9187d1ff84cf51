"""The TLS client context every outbound client of a process shares (tools and providers)."""

from __future__ import annotations

import ssl


def tls_context() -> ssl.SSLContext:
    """Certificate checks against certifi's CA bundle (the one httpx and httpx2 trust), with no
    environment overrides. Loading the bundle costs about 20 ms: the composition root builds one
    context per process and hands it to every client."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
