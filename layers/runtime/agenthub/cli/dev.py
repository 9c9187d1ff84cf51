"""`agenthub dev`: run the whole system locally (what `make run` runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 1-65535")
    return value


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("minutes must be 0 (off) or more")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dev",
        help="run the whole system locally (embedded services, local API gateway)",
        description="Start embedded PostgreSQL and Redis, a local AWS endpoint (moto) with the "
        "reload queue, the demo business API and a local API gateway that serves template.yaml's "
        "routes with the real function handlers. Ctrl-C stops everything; state is kept in the "
        "state directory.",
    )
    parser.add_argument("--port", type=_port, default=3000, help="API gateway port (3000)")
    parser.add_argument(
        "--api-port", type=_port, default=8001, help="demo business API port (8001)"
    )
    parser.add_argument(
        "--aws-port", type=_port, default=4566, help="local AWS endpoint port (4566, LocalStack's)"
    )
    parser.add_argument("--reset", action="store_true", help="wipe the state directory first")
    parser.add_argument(
        "--no-embedded",
        dest="embedded",
        action="store_false",
        help="use DATABASE_URL, REDIS_URL and AWS_ENDPOINT_URL (e.g. localstack-compose.yml)",
    )
    parser.add_argument(
        "--state-dir", type=Path, help="state directory (default: AGENTHUB_STATE_DIR or .agenthub)"
    )
    parser.add_argument("--template", type=Path, help="SAM template (default: ./template.yaml)")
    parser.add_argument(
        "--retention-every",
        type=_minutes,
        default=60.0,
        metavar="MINUTES",
        help="run the retention function every MINUTES and at start-up (60; 0 turns it off)",
    )
    parser.set_defaults(handler=_dev)


def _dev(args: argparse.Namespace) -> int:
    from agenthub.local.dev import DevOptions, run

    return run(
        DevOptions(
            port=args.port,
            api_port=args.api_port,
            aws_port=args.aws_port,
            embedded=args.embedded,
            reset=args.reset,
            state_dir=args.state_dir,
            template=args.template,
            retention_every_min=args.retention_every,
        )
    )
