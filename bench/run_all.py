"""Run every benchmark in turn and print their figures (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = ("chat_turn.py", "cache.py", "cold_start.py", "stream.py", "db_query.py")


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = []
    for name in BENCHES:
        print(f"\n=== bench/{name}", flush=True)
        if subprocess.run([sys.executable, str(here / name)], check=False).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
