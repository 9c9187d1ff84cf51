"""Chat turns under load: N concurrent conversations over M tenants, an LLM that takes 1 s a call.

Warm containers are simulated as threads calling the chat Lambda handler (one conversation per
thread, one request at a time, as a Lambda container serves them), spread over P worker
processes (each process is a set of containers sharing one set of pools, and its own GIL).
Every conversation sends the single-intent debt question again and again in its own session,
for `--seconds`, after one warm-up turn per tenant in every process. The conversations start
spread over `--ramp-up` seconds (one turn's time by default), whose turns are not measured.

The model is `FakeOpenAIServer` with `ScriptedModel` behind the real langchain-openai client,
each reply held back `--llm-delay` seconds. The fake provider, a migrated temporary database and
Redis run in this process (embedded unless DATABASE_URL / REDIS_URL are set); the demo business
API (the debt tool's ERP) in a process of its own: in this one, its replies waited behind the
fake provider's 50 threads for this process's interpreter lock (p95 of a tool call 0.2-0.5 s
against a median of 10-17 ms), a wait no real ERP adds.

Reported: turn latency p50/p95/p99, errors, CPU ms per turn (the worker processes' CPU time over
the measured window, per turn; next to it, what the bench's own servers in this process and
the local PostgreSQL server spent per turn on the same 2 cores), model calls per turn (requests
the fake provider received), and the PostgreSQL connections to the database at peak (sampled
every 100 ms).

    uv run python bench/load.py [--conversations 50] [--tenants 10] [--processes 4]
                                [--seconds 20] [--llm-delay 1.0] [--ramp-up S]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import contextvars
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ISSUER = "https://auth.bench.agenthub"
AUDIENCE = "agenthub-bench"
MESSAGE = "Debt for MST 0123456789"
P95_AIM_S = 2.3


@dataclass(frozen=True)
class Plan:
    conversations: int
    tenants: tuple[str, ...]
    processes: int
    seconds: float
    tokens: dict[str, str]  # tenant -> JWT
    ramp_up_s: float = 0.0


@dataclass
class WorkerReport:
    latencies_s: list[float] = field(default_factory=list)
    # Per successful turn: the wall time spent inside model calls, as the client saw them (the
    # fake's delay, plus its server and the network), and inside the tool's HTTP call to the
    # demo business API; the rest of the turn is ours.
    model_wait_s: list[float] = field(default_factory=list)
    tool_wait_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu_s: float = 0.0
    turns: int = 0  # all of them (CPU per turn); those of the ramp-up are not measured
    measured_turns: int = 0


# --- the stack (this process) -----------------------------------------------------------------


def _tenant_ids(count: int) -> tuple[str, ...]:
    demo = ("acme", "globex")
    return (*demo[:count], *(f"bench{i:03d}" for i in range(max(0, count - len(demo)))))


@contextlib.contextmanager
def stack(tenants: tuple[str, ...], llm_delay_s: float) -> Iterator[tuple[Any, dict[str, str]]]:
    from _stack import business_api, embedded_redis, temporary_database  # bench/_stack.py
    from cryptography.fernet import Fernet

    from agenthub.auth.devkeys import ensure_dev_key_pair, mint_token
    from tests.support.fake_openai import FakeOpenAIServer
    from tests.support.scripted_model import ScriptedModel

    state = Path(tempfile.mkdtemp(prefix="agenthub-bench-load-"))
    atexit.register(shutil.rmtree, state, ignore_errors=True)
    keys = ensure_dev_key_pair(state)
    for name in [name for name in os.environ if name.startswith("AGENTHUB_")]:
        del os.environ[name]
    scripted = ScriptedModel()
    measuring = threading.Event()  # the warm-up runs at full speed, the measured turns do not

    def slow_model(body: dict[str, Any]) -> Any:
        return replace(scripted(body), delay_s=llm_delay_s if measuring.is_set() else 0.0)

    with contextlib.ExitStack() as cleanup:
        database_url = cleanup.enter_context(temporary_database(state, prefix="agenthub_load"))
        redis_url = os.environ.get("REDIS_URL") or embedded_redis(state, cleanup)
        api_url = business_api(
            keys.public_pem,
            issuer=ISSUER,
            audience=AUDIENCE,
            cleanup=cleanup,
            own_process=True,
            customers_of_acme_for=tenants,
        )
        fake = cleanup.enter_context(FakeOpenAIServer(responder=slow_model))
        fake.measuring = measuring
        os.environ.update(
            {
                "AGENTHUB_ENV": "local",
                "AGENTHUB_STATE_DIR": str(state),
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "AGENTHUB_AUTH__ISSUER": ISSUER,
                "AGENTHUB_AUTH__AUDIENCE": AUDIENCE,
                "AGENTHUB_AUTH__PUBLIC_KEY_PEM": keys.public_pem,
                "AGENTHUB_CRYPTO__FERNET_KEYS": Fernet.generate_key().decode(),
                "AGENTHUB_TOOLS__SSRF_ALLOW": "127.0.0.1/32,localhost",
            }
        )
        from agenthub import composition

        composition.reset()
        cleanup.callback(composition.reset)
        _seed(tenants, api_url=api_url, fake_base_url=fake.base_url)
        tokens = {
            tenant: mint_token(
                private_key_pem=keys.private_pem,
                kid=keys.kid,
                tenant_id=tenant,
                user_id="load-user",
                ttl_s=3600,
                issuer=ISSUER,
                audience=AUDIENCE,
            )
            for tenant in tenants
        }
        composition.reset()  # the workers hold the connections, not this process
        yield fake, tokens


def _seed(tenants: tuple[str, ...], *, api_url: str, fake_base_url: str) -> None:
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import (
        AgentConfigRepository,
        PermissionRepository,
        TenantRepository,
        ToolConfigRepository,
    )
    from agenthub.services.seed import seed_demo
    from tests.support.scripted_model import use_fake_provider

    with transaction(get_sessionmaker()) as db:
        seed_demo(db, keyring=get_keyring(), api_url=api_url)
        repo = TenantRepository(db)
        permissions = PermissionRepository(db)
        agents = [a.id for a in AgentConfigRepository(db).list()]
        tools = [t.id for t in ToolConfigRepository(db).list()]
        for tenant in tenants:
            if repo.get(tenant) is None:
                repo.create(tenant_id=tenant, name=f"Load tenant {tenant}")
                for agent_id in agents:
                    permissions.set_agent(tenant_id=tenant, agent_id=agent_id, enabled=True)
                for tool_id in tools:
                    permissions.set_tool(tenant_id=tenant, tool_id=tool_id, enabled=True)
            repo.update_settings(  # we measure turns, not the tenant's rate limit
                tenant_id=tenant,
                expected_version=repo.require(tenant).version,
                changes={"rate_limit_per_minute": 100_000},
            )
            use_fake_provider(
                db,
                tenant_id=tenant,
                keyring=get_keyring(),
                base_url=fake_base_url,
                api_key=f"sk-load-{tenant}",
            )


class ConnectionSampler(threading.Thread):
    """The peak number of backends connected to the bench database."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True, name="pg-connections")
        self.url = url
        self.peak = 0
        self._halt = threading.Event()

    def run(self) -> None:
        import psycopg

        from agenthub.db.engine import libpq_url

        with psycopg.connect(libpq_url(self.url), autocommit=True) as conn:
            while not self._halt.wait(0.1):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
                self.peak = max(self.peak, int(row[0]) if row else 0)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


# --- the workers (P processes, each N/P threads) ----------------------------------------------


def _worker(
    plan: Plan,
    index: int,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore")
    from tests.support.lambda_events import invoke, load_handler, rest_event

    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        import logging

        from agenthub.observability import get_logger

        for handler in get_logger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(devnull)
        chat = load_handler("chat")
        mine = list(range(index, plan.conversations, plan.processes))
        report = WorkerReport()
        _time_waits()

        def send(tenant: str, session_id: str | None) -> Any:
            body: dict[str, Any] = {"message": MESSAGE}
            if session_id:
                body["session_id"] = session_id
            event = rest_event(
                "POST",
                f"/api/{tenant}/chat",
                body=body,
                token=plan.tokens[tenant],
                resource="/api/{tenant_id}/chat",
                path_parameters={"tenant_id": tenant},
            )
            return invoke(chat, event)

        # Warm, as a warm container is: config, graph and pools of every tenant.
        warming = [
            threading.Thread(target=_in_own_loop, args=(send, tenant, None))
            for tenant in plan.tenants
        ]
        for thread in warming:
            thread.start()
        for thread in warming:
            thread.join()
        ready.put(index)
        go.wait()
        ramped_up = time.monotonic() + plan.ramp_up_s
        deadline = ramped_up + plan.seconds
        lock = threading.Lock()

        def conversation(number: int) -> None:
            asyncio.set_event_loop(asyncio.new_event_loop())  # Mangum needs one per thread
            tenant = plan.tenants[number % len(plan.tenants)]
            session: str | None = None
            # Conversations start spread over the ramp-up, as users do: started all at once,
            # with a model that always takes the same time, they would stay in lockstep and
            # ask for the CPU at the same instants turn after turn.
            time.sleep(plan.ramp_up_s * number / plan.conversations)
            while time.monotonic() < deadline:
                measured = time.monotonic() >= ramped_up
                started = time.perf_counter()
                waits = Waits()
                _WAITS.set(waits)
                try:
                    result = send(tenant, session)
                    # The debt card, mapped from the tool's result: anything else (a tool that
                    # failed, a text answer) is an error of this bench's turn.
                    ok = (
                        result.status == 200
                        and result.body.get("agent") == "debt"
                        and result.body.get("format") == "card"
                        and result.body.get("routing", {}).get("status") == "ok"
                    )
                    error = None if ok else f"{result.status} {str(result.body)[:300]}"
                    session = result.body.get("session_id") if ok else None
                except Exception as exc:  # a crash is an error to report, not a dead thread
                    error = repr(exc)[:200]
                elapsed = time.perf_counter() - started
                with lock:
                    report.turns += 1
                    if not measured:  # part of the ramp-up: fewer conversations under way
                        continue
                    report.measured_turns += 1
                    if error:
                        report.errors.append(error)
                    else:
                        report.latencies_s.append(elapsed)
                        report.model_wait_s.append(waits.model_s)
                        report.tool_wait_s.append(waits.tool_s)

        cpu = time.process_time()
        threads = [threading.Thread(target=conversation, args=(n,)) for n in mine]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        report.cpu_s = time.process_time() - cpu
    results.put(report)


class Waits:
    """Wall time a turn spent waiting on the model and on the tool (the tool runs in LangGraph's
    executor threads, which copy the turn's context: hence a context variable)."""

    def __init__(self) -> None:
        self.model_s = 0.0
        self.tool_s = 0.0


_WAITS: contextvars.ContextVar[Waits] = contextvars.ContextVar("waits")


def _time_waits() -> None:
    from langchain_openai.chat_models.base import BaseChatOpenAI

    from agenthub.tools.http import HttpCall

    _add_wait(BaseChatOpenAI, "_generate", "model_s")
    _add_wait(HttpCall, "fetch", "tool_s")


def _add_wait(owner: type, method: str, attribute: str) -> None:
    original = getattr(owner, method)

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            waits = _WAITS.get(None)
            if waits is not None:
                setattr(waits, attribute, getattr(waits, attribute) + time.perf_counter() - started)

    setattr(owner, method, timed)


def _in_own_loop(function: Any, *args: Any) -> Any:
    asyncio.set_event_loop(asyncio.new_event_loop())  # Mangum needs one per thread
    return function(*args)


def postgres_cpu_s() -> float:
    """CPU seconds of this machine's PostgreSQL server processes so far (0 when none is local)."""
    import psutil

    total = 0.0
    for process in psutil.process_iter(["name", "cpu_times"]):
        if process.info["name"] in ("postgres", "postmaster") and process.info["cpu_times"]:
            total += process.info["cpu_times"].user + process.info["cpu_times"].system
    return total


def business_api_cpu_s() -> float:
    import psutil
    from _stack import BUSINESS_API_PIDS  # bench/_stack.py

    times = [psutil.Process(pid).cpu_times() for pid in BUSINESS_API_PIDS]
    return sum(t.user + t.system for t in times)


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50, help="N concurrent")
    parser.add_argument("--tenants", type=int, default=10, help="M tenants")
    parser.add_argument("--processes", type=int, default=4, help="worker processes")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--llm-delay", type=float, default=1.0, help="seconds per model call")
    parser.add_argument(
        "--ramp-up",
        type=float,
        default=None,
        help="seconds over which the conversations start, not measured (default: two model "
        "calls' time, one turn; 0 starts them all at once)",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    tenants = _tenant_ids(max(1, args.tenants))
    processes = max(1, min(args.processes, args.conversations))

    phase = time.perf_counter()
    with stack(tenants, args.llm_delay) as (fake, tokens):
        print(f"stack up in {time.perf_counter() - phase:.1f} s", file=sys.stderr)
        ramp_up = 2 * args.llm_delay if args.ramp_up is None else max(0.0, args.ramp_up)
        plan = Plan(args.conversations, tenants, processes, args.seconds, tokens, ramp_up)
        context = mp.get_context("spawn")
        ready, results, go = context.Queue(), context.Queue(), context.Event()
        workers = [
            context.Process(target=_worker, args=(plan, i, ready, go, results))
            for i in range(processes)
        ]
        phase = time.perf_counter()
        for worker in workers:
            worker.start()
        for _ in workers:
            ready.get(timeout=300)
        print(f"workers warm in {time.perf_counter() - phase:.1f} s", file=sys.stderr)
        fake.reset()
        fake.measuring.set()
        sampler = ConnectionSampler(os.environ["DATABASE_URL"])
        sampler.start()
        harness_cpu, postgres_cpu = time.process_time(), postgres_cpu_s()
        business_cpu = business_api_cpu_s()
        started = time.perf_counter()
        go.set()
        reports: list[WorkerReport] = [results.get(timeout=args.seconds + 120) for _ in workers]
        wall = time.perf_counter() - started
        harness_cpu = time.process_time() - harness_cpu
        postgres_cpu = postgres_cpu_s() - postgres_cpu
        business_cpu = business_api_cpu_s() - business_cpu
        sampler.stop()
        for worker in workers:
            worker.join(timeout=30)
        model_calls = len(fake.chat_requests)

    latencies = sorted(s for r in reports for s in r.latencies_s)
    errors = [e for r in reports for e in r.errors]
    turns = sum(r.turns for r in reports)
    measured = sum(r.measured_turns for r in reports)
    cpu_s = sum(r.cpu_s for r in reports)
    print(
        f"\nload: {args.conversations} concurrent conversations over {len(tenants)} tenants, "
        f"{processes} processes, {args.seconds:g} s after a {plan.ramp_up_s:g} s ramp-up, "
        f"LLM {args.llm_delay:g} s per call\n"
    )
    print(
        f"turns                  {measured} measured ({turns / wall:.1f}/s), "
        f"{turns - measured} in the ramp-up"
    )
    print(f"errors                 {len(errors)}")
    if len(latencies) >= 2:
        p50, p95, p99 = (percentile(latencies, q) for q in (50, 95, 99))
        print(f"latency p50/p95/p99    {p50:.3f} / {p95:.3f} / {p99:.3f} s")
        verdict = "met" if p95 <= P95_AIM_S and not errors else "NOT met"
        print(f"aim p95 <= {P95_AIM_S} s, 0 errors: {verdict}")
        waits = sorted(w for r in reports for w in r.model_wait_s)
        tools = sorted(w for r in reports for w in r.tool_wait_s)
        rest = sorted(
            latency - model - tool
            for r in reports
            for latency, model, tool in zip(
                r.latencies_s, r.model_wait_s, r.tool_wait_s, strict=True
            )
        )
        print(
            "  in model calls       "
            + " / ".join(f"{percentile(waits, q):.3f}" for q in (50, 95, 99))
            + " s (the fake's delay, its server, the network)"
        )
        print(
            "  in the tool call     "
            + " / ".join(f"{percentile(tools, q):.3f}" for q in (50, 95, 99))
            + " s (the demo business API)"
        )
        print(
            "  rest of the turn     "
            + " / ".join(f"{percentile(rest, q):.3f}" for q in (50, 95, 99))
            + " s"
        )
    per_turn = 1000 / max(turns, 1)
    print(f"CPU per turn           {cpu_s * per_turn:.1f} ms")
    print(
        f"  on the same cores:   fake provider {harness_cpu * per_turn:.1f} ms, business API "
        f"{business_cpu * per_turn:.1f} ms, PostgreSQL {postgres_cpu * per_turn:.1f} ms"
    )
    print(f"model calls per turn   {model_calls / max(turns, 1):.2f}")
    print(f"PostgreSQL connections at peak: {sampler.peak} ({processes} processes)")
    for error in sorted(set(errors))[:3]:
        print(f"  error: {error}")
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
