"""`agenthub retention run [--dry-run] [--tenant T]`: purge expired conversations now."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    retention = subparsers.add_parser("retention", help="conversation retention")
    commands = retention.add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    run = commands.add_parser(
        "run",
        help="delete conversations idle for longer than their tenant's retention_days",
        description="Delete the sessions, messages and checkpoints of conversations whose last "
        "activity is older than their tenant's retention_days, and print the counts.",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="report what would be deleted; change nothing"
    )
    run.add_argument("--tenant", metavar="TENANT_ID", help="only this tenant")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from agenthub.composition import get_retention_service

    report = get_retention_service().run(tenant_id=args.tenant, dry_run=args.dry_run)
    what = "dry run, would delete" if report.dry_run else "deleted"
    print(
        f"retention {what}: sessions={report.sessions} messages={report.messages} "
        f"checkpoints={report.checkpoints} tenants={report.tenants}"
    )
    return 0
