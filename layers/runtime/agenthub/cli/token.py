"""`agenthub token`: a development JWT for a tenant's user, signed with the local key pair.

Local and test mode only: real tokens come from the identity provider.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agenthub.errors import ConfigurationError, ValidationFailedError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def register(subparsers: Any) -> None:
    from agenthub.auth.principal import KNOWN_ROLES

    parser = subparsers.add_parser(
        "token",
        help="print a development JWT (local mode only)",
        description="Print an RS256 JWT signed with the development key pair in the state "
        "directory (created on first use). Refused outside local mode.",
    )
    parser.add_argument("--tenant", required=True, help="tenant id (the token's tenant_id)")
    parser.add_argument("--user", required=True, help="user id (the token's sub)")
    parser.add_argument(
        "--role",
        action="append",
        default=[],
        choices=sorted(KNOWN_ROLES),
        help="a role to grant; repeat for several",
    )
    parser.add_argument(
        "--ttl", type=_positive_int, default=3600, help="lifetime in seconds (default 3600)"
    )
    parser.set_defaults(handler=_token)


def _token(args: argparse.Namespace) -> int:
    from agenthub.settings import get_settings

    settings = get_settings()
    print(
        issue_dev_token(
            settings, tenant_id=args.tenant, user_id=args.user, roles=args.role, ttl_s=args.ttl
        )
    )
    return 0


def issue_dev_token(
    settings: Any, *, tenant_id: str, user_id: str, roles: list[str], ttl_s: int
) -> str:
    """A token for the development key pair; refuses outside local mode."""
    from agenthub.auth.devkeys import ensure_dev_key_pair, mint_token

    if not settings.is_local:
        raise ConfigurationError(
            f"agenthub token only works in local mode (AGENTHUB_ENV is {settings.env!r}); "
            "get tokens from your identity provider"
        )
    auth = settings.auth
    if ttl_s > auth.max_token_lifetime_s:
        raise ValidationFailedError(
            f"--ttl may be at most {auth.max_token_lifetime_s} seconds (auth.max_token_lifetime_s)"
        )
    if auth.public_key_pem is not None or auth.jwks_url:
        print(
            "agenthub: note: auth.public_key_pem / auth.jwks_url is set, so the API verifies "
            "tokens with that key, not with the development key",
            file=sys.stderr,
        )
    pair = ensure_dev_key_pair(settings.state_dir)
    return mint_token(
        private_key_pem=pair.private_pem,
        kid=pair.kid,
        tenant_id=tenant_id,
        user_id=user_id,
        roles=roles,
        ttl_s=ttl_s,
        issuer=auth.issuer,
        audience=auth.audience,
    )
