"""DB_QUERY: the save-time guard and one tool call on the demo analytics database.

(a) guard: parse and check the demo tools' SQL (sqlglot, PostgreSQL dialect), median per query,
    and the one-off import of sqlglot (paid when the first DB_QUERY tool is built or saved).
(b) call: `sales_by_month` and `top_customers_by_debt` through the runtime tool (argument
    validation, pooled connection, READ ONLY transaction with statement_timeout, fetch, JSON),
    against the embedded PostgreSQL (or DATABASE_URL's server); first call (opens the pool)
    apart, then the median and p95 of N warm calls.

    uv run python bench/db_query.py [--calls 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()

    import os

    os.environ.setdefault("AGENTHUB_LOG_LEVEL", "WARNING")  # no per-call log lines

    from cryptography.fernet import Fernet
    from langchain_core.messages import ToolMessage
    from pydantic import SecretStr

    from agenthub.crypto import KeyRing
    from agenthub.domain import TOOL_CONTEXT_KEY, ToolContext, ToolSpec
    from agenthub.embedded import start_postgres
    from agenthub.services.seed_analysis import QUERY_TOOLS
    from agenthub.tools import build_tool
    from agenthub.tools.db_pools import DataSourcePools
    from agenthub.tools.registry import ToolDependencies

    started = time.perf_counter()
    from agenthub.tools.sql_guard import guard_select

    guard_select("SELECT 1")
    print(f"sqlglot import + first parse: {_ms(time.perf_counter() - started)}")
    for tool in QUERY_TOOLS:
        timings = []
        for _ in range(50):
            t0 = time.perf_counter()
            guard_select(tool.config["sql"])
            timings.append(time.perf_counter() - t0)
        print(f"guard {tool.name}: median {_ms(statistics.median(timings))}")

    with tempfile.TemporaryDirectory(prefix="agenthub-bench-dbq-") as state:
        Path(state).chmod(0o755)
        server = os.environ.get("DATABASE_URL") or start_postgres(Path(state) / "postgres")
        from agenthub.demo.analytics_db import ensure_analytics_database, set_role_password

        analytics = ensure_analytics_database(server, ("acme",))
        url = analytics.tenant_url("acme", set_role_password(server, "acme"))
        keyring = KeyRing([Fernet.generate_key().decode()])
        pools = DataSourcePools(
            decrypt=keyring.decrypt, allow=lambda: ["127.0.0.1/32", "localhost"]
        )
        context = ToolContext(tenant_id="acme", user_id="bench", user_jwt=SecretStr("-"))
        config: Any = {"configurable": {TOOL_CONTEXT_KEY: context}}
        calls = {"sales_by_month": {"year": 2025}, "top_customers_by_debt": {"limit": 5}}
        try:
            for spec in QUERY_TOOLS:
                tool = build_tool(
                    ToolSpec(
                        id=uuid.uuid4(),
                        name=spec.name,
                        description=spec.description,
                        type="DB_QUERY",
                        input_schema=spec.input_schema,
                        config=spec.config,
                        encrypted_data_source_url=keyring.encrypt(url).decode(),
                    ),
                    # A DB_QUERY tool needs only the pools; no HTTP client, nothing to decrypt.
                    ToolDependencies(
                        http_client_factory=_unused, decrypt=_unused, data_source_pools=pools
                    ),
                )
                call = {"type": "tool_call", "id": "c", "name": spec.name, "args": calls[spec.name]}
                timings = []
                for _ in range(args.calls + 1):
                    t0 = time.perf_counter()
                    message = tool.invoke(call, config=config)
                    timings.append(time.perf_counter() - t0)
                    assert isinstance(message, ToolMessage) and message.status == "success"
                first, warm = timings[0], sorted(timings[1:])
                p95 = warm[int(len(warm) * 0.95) - 1]
                print(
                    f"call {spec.name}: first {_ms(first)}, median {_ms(statistics.median(warm))},"
                    f" p95 {_ms(p95)} ({args.calls} warm calls)"
                )
        finally:
            pools.close()
    return 0


def _unused(*_: Any) -> Any:
    raise AssertionError("a DB_QUERY tool makes no HTTP call and decrypts nothing itself")


if __name__ == "__main__":
    raise SystemExit(main())
