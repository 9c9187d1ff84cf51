"""The `agenthub` command line. Each subcommand lives in its own module with `register()`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from agenthub.errors import AgentHubError

# Modules under agenthub.cli that add subcommands, in help order.
COMMAND_MODULES = ("db", "keys", "token", "seed", "retention", "dev", "chat")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agenthub", description="AgentHub: multi-tenant, multi-agent chatbot platform"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"agenthub.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"agenthub.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except AgentHubError as exc:
        print(f"agenthub: error: {exc.message}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
