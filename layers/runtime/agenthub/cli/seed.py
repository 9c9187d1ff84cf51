"""`agenthub seed demo`: load the demo tenants, agents and tools (idempotent)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    seed = subparsers.add_parser("seed", help="load seed data")
    commands = seed.add_subparsers(dest="seed_command", required=True, metavar="DATASET")
    demo = commands.add_parser("demo", help="demo tenants acme and globex with Debt and Shipment")
    demo.add_argument("--api-url", help="base URL of the demo business API")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from agenthub.cli._reload import announce_reload
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.services.seed import seed_demo

    with transaction(get_sessionmaker()) as db:
        report = seed_demo(db, keyring=get_keyring(), api_url=args.api_url)
    print(
        f"demo seed loaded: {report.tenants} tenants, {report.agents} agents, "
        f"{report.tools} tools, LLM {report.llm}"
    )
    announce_reload(tenant_ids=report.tenant_ids, reason="demo seed loaded (seed demo)")
    return 0
