"""`agenthub db upgrade|downgrade|current`: Alembic on the configured (or embedded) database."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="database migrations (Alembic)")
    commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")

    upgrade = commands.add_parser("upgrade", help="upgrade to a revision (default: head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_upgrade)

    downgrade = commands.add_parser("downgrade", help="downgrade to a revision (default: -1)")
    downgrade.add_argument("revision", nargs="?", default="-1")
    downgrade.set_defaults(handler=_downgrade)

    current = commands.add_parser("current", help="show the current revision")
    current.set_defaults(handler=_current)


def _url() -> str:
    from agenthub.composition import database_url

    return database_url()


def _upgrade(args: argparse.Namespace) -> int:
    from agenthub.db import migrate

    migrate.upgrade(_url(), args.revision)
    print(f"database upgraded to {args.revision}")
    return 0


def _downgrade(args: argparse.Namespace) -> int:
    from agenthub.db import migrate

    migrate.downgrade(_url(), args.revision)
    print(f"database downgraded to {args.revision}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from agenthub.db import migrate

    migrate.current(_url())
    return 0
