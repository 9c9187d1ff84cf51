"""`agenthub keys generate|rotate`: Fernet keys for the secrets stored in PostgreSQL."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    keys = subparsers.add_parser("keys", help="Fernet keys: generate one, rotate stored secrets")
    commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    generate = commands.add_parser("generate", help="print a new Fernet key")
    generate.set_defaults(handler=_generate)

    rotate = commands.add_parser(
        "rotate",
        help="re-encrypt every stored secret under the first configured key",
        description=(
            "Re-encrypts every stored secret under the first key of AGENTHUB_CRYPTO__FERNET_KEYS "
            "(comma separated, newest first), in one transaction, then publishes a config "
            "reload for the tenants it changed. Keep the old key configured until that reload "
            "has been processed or cached configs have expired (1 hour)."
        ),
    )
    rotate.set_defaults(handler=_rotate)


def _generate(args: argparse.Namespace) -> int:
    from agenthub.crypto import generate_key

    print(generate_key())
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from agenthub import composition
    from agenthub.cli._reload import announce_reload
    from agenthub.db.engine import transaction
    from agenthub.services.keys import rotate_all

    keyring = composition.get_keyring()
    with transaction(composition.get_sessionmaker()) as db:
        report = rotate_all(db, keyring)
    print(f"re-encrypted {report.total} stored secrets under key {report.primary_fingerprint}")
    for column, count in report.counts.items():
        print(f"  {column}: {count}")
    announce_reload(tenant_ids=report.tenant_ids, reason="secrets re-encrypted (keys rotate)")
    return 0
