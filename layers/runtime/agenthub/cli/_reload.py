"""After a command commits config changes: tell running containers to reload, say if it worked.

Containers compare their cached config with the tenant's version in Redis, which only the reload
consumer moves: a version bumped in PostgreSQL alone stays unseen until the cache expires (1 h).
"""

from __future__ import annotations

from collections.abc import Sequence


def announce_reload(*, tenant_ids: Sequence[str], reason: str) -> None:
    """Publish a reload for the tenants and print `reload queued` or `reload pending: <why>`."""
    if not tenant_ids:
        print("reload not needed: no tenant's config changed")
        return
    from agenthub.composition import get_reload_publisher

    outcome = get_reload_publisher().publish(tenant_ids=tenant_ids, reason=reason)
    if outcome.status == "queued":
        print("reload queued")
    else:
        print(f"reload pending: {outcome.detail} (cached configs expire within 1 hour)")
