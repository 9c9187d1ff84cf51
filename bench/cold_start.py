"""Cold start: a fresh process serving its first chat request, next to importing LangGraph alone.

(a) agenthub: `python -c` imports functions/chat/handler.py and serves one API Gateway event
    (a greeting by default; `--debt` asks a debt question, which calls the demo ERP API) against
    a seeded database. Everything a cold Lambda container does after the runtime starts:
    imports, settings, JWT check, PostgreSQL and Redis connections, tenant config, graph
    compilation, the turn, the session and message rows.
(b) baseline: `python -c` that only imports what any LangGraph app on that provider imports.

Two tenants' providers are measured (`--provider`, both by default):
- offline: the deterministic offline model; baseline LangGraph + langchain-core (BASELINE).
- openai: an OpenAI-compatible provider (the fake OpenAI server of tests/support, driven
  through the real langchain-openai client); baseline LangGraph + langchain-core +
  langchain-openai (BASELINE_OPENAI), since that tenant's first request imports it too.

Both run with only what a Lambda container can import: the packages of the layer
(layers/runtime/requirements.txt) and of the Lambda runtime. A package only the development
environment holds is not importable in either process, as on Lambda: several are optional
imports of the layer's own packages (httpx loads rich, click and pygments for its command line
when they are installed, openai loads aiohttp, langsmith zstandard and psutil), which would add
the same 100-300 ms to both and make the ratio look better than a Lambda cold start.
`--dev-environment` imports whatever the development environment holds instead.

Both are timed from the parent as wall time of the whole process (interpreter start included),
in interleaved pairs (a, b, a, b, ...); printed are the medians, and the ratio as the median of
the pairs' ratios (robust to the machine's load changing between pairs). The database is set up
once, before timing: embedded PostgreSQL and Redis in a temp dir unless DATABASE_URL /
REDIS_URL are set (then a temporary database is created there and dropped at the end).

    uv run python bench/cold_start.py [--runs 5] [--provider offline|openai|both] [--debt]
                                      [--importtime] [--without-bytecode] [--config-miss]
                                      [--dev-environment]

`--importtime` also runs (a) once under `python -X importtime` and sums import time by package.
`--without-bytecode` also runs (a) as from a layer that holds no .pyc files on Lambda's
read-only /opt: no bytecode cache read or written, every module compiled at each cold start.
`--config-miss` also runs (a) with the tenant's config in no cache (its Redis keys deleted
before each run), as for the first message after the cache's TTL: the config is read from
PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

ISSUER = "https://auth.bench.agenthub"
AUDIENCE = "agenthub-bench"
TENANT, USER = "acme", "cold-start"
GREETING = "hello"
DEBT_QUESTION = "Debt for MST 0123456789"
TARGET_RATIO = 1.3
BASELINE = (
    "from langgraph.graph import StateGraph; from langchain_core.messages import HumanMessage"
)
BASELINE_OPENAI = f"{BASELINE}; from langchain_openai import ChatOpenAI"
UNUSED_API = "http://127.0.0.1:9"  # the demo tools' URL when no tool is called
DEV_ENVIRONMENT = False  # --dev-environment

# Lambda's Python runtime ships these besides the standard library (boto3 and its dependencies).
LAMBDA_RUNTIME_DISTRIBUTIONS = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
NOT_IN_LAYER_VARIABLE = "BENCH_NOT_IN_LAYER"
# First lines of both processes: the top-level modules named in $BENCH_NOT_IN_LAYER cannot be
# imported (ModuleNotFoundError, as when they are not installed).
LAYER_ONLY = """
import os as _os, sys as _sys
class _NotInLayer:
    blocked = frozenset(filter(None, _os.environ.get("BENCH_NOT_IN_LAYER", "").split(",")))
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.partition(".")[0] in cls.blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
_sys.meta_path.insert(0, _NotInLayer)
"""

# The child: import the handler, serve one event, write the timings to argv[3].
CHILD = (
    LAYER_ONLY
    + """
import json, sys, time
started = time.perf_counter()
import importlib.util
spec = importlib.util.spec_from_file_location("chat_handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported = time.perf_counter()

class Context:
    function_name = "agenthub-chat"
    memory_limit_in_mb = 1024
    aws_request_id = "cold-start"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:agenthub-chat"
    @staticmethod
    def get_remaining_time_in_millis():
        return 29000

with open(sys.argv[2]) as handle:
    event = json.load(handle)
response = module.handler(event, Context())
done = time.perf_counter()
answered_at = time.time()
body = json.loads(response.get("body") or "null") or {}
with open(sys.argv[3], "w") as handle:
    json.dump({"import_s": imported - started, "request_s": done - imported,
               "answered_at": answered_at,
               "status": response["statusCode"], "agent": body.get("agent"),
               "provider_sdk": "langchain_openai" in sys.modules}, handle)
"""
)


@dataclass(frozen=True)
class Setup:
    env: dict[str, str]
    event_file: Path
    expected_agent: str | None  # None: any agent (a real-protocol model decides)
    baseline: str
    provider_sdk: bool = False  # the first request must have imported langchain_openai


# --- setting up (once, before timing) ----------------------------------------------------------


@contextlib.contextmanager
def setup(*, debt: bool) -> Iterator[Callable[[str], Setup]]:
    """Yields `prepare(provider)`: the tenant on that provider, and what to run."""
    from _stack import business_api, embedded_redis, temporary_database  # bench/_stack.py
    from cryptography.fernet import Fernet

    from agenthub.auth.devkeys import ensure_dev_key_pair, mint_token

    state = Path(tempfile.mkdtemp(prefix="agenthub-bench-cold-"))
    keys = ensure_dev_key_pair(state)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, state, ignore_errors=True)
        database_url = cleanup.enter_context(temporary_database(state, prefix="agenthub_cold"))
        redis_url = os.environ.get("REDIS_URL") or embedded_redis(state, cleanup)
        api_url = (
            business_api(keys.public_pem, issuer=ISSUER, audience=AUDIENCE, cleanup=cleanup)
            if debt
            else UNUSED_API
        )
        settings = {
            "AGENTHUB_ENV": "local",
            "AGENTHUB_STATE_DIR": str(state),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "AGENTHUB_AUTH__ISSUER": ISSUER,
            "AGENTHUB_AUTH__AUDIENCE": AUDIENCE,
            "AGENTHUB_AUTH__PUBLIC_KEY_PEM": keys.public_pem,
            "AGENTHUB_CRYPTO__FERNET_KEYS": Fernet.generate_key().decode(),
            "AGENTHUB_TOOLS__SSRF_ALLOW": "127.0.0.1/32,localhost",
            "POWERTOOLS_SERVICE_NAME": "chat",
        }
        env = _child_environment(settings)
        os.environ.clear()
        os.environ.update(env)
        _seed(api_url)
        token = mint_token(
            private_key_pem=keys.private_pem,
            kid=keys.kid,
            tenant_id=TENANT,
            user_id=USER,
            ttl_s=3600,
            issuer=ISSUER,
            audience=AUDIENCE,
        )
        event_file = state / "event.json"
        event_file.write_text(json.dumps(_event(DEBT_QUESTION if debt else GREETING, token)))
        expected = "debt" if debt else "supervisor"

        def prepare(provider: str) -> Setup:
            if provider == "openai":
                _use_fake_openai(cleanup)
            return Setup(
                env=env,
                event_file=event_file,
                expected_agent=expected if provider == "offline" else None,
                baseline=BASELINE if provider == "offline" else BASELINE_OPENAI,
                provider_sdk=provider == "openai",
            )

        yield prepare


def _child_environment(settings: dict[str, str]) -> dict[str, str]:
    """The shell's environment without anything that would change what is measured."""
    dropped = ("AGENTHUB_", "OPENAI_", "OPENROUTER_", "ANTHROPIC_", "AWS_", "LANGSMITH_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(settings)
    env[NOT_IN_LAYER_VARIABLE] = "" if DEV_ENVIRONMENT else ",".join(sorted(not_in_layer()))
    env["PYTHONDONTWRITEBYTECODE"] = "0"  # keep .pyc caches: a Lambda layer is not recompiled
    return env


def not_in_layer() -> set[str]:
    """Top-level modules installed here that neither the layer nor Lambda's runtime holds."""
    import importlib.metadata
    import re

    requirements = (REPO_ROOT / "layers" / "runtime" / "requirements.txt").read_text()
    layer = {
        _distribution_key(match)
        for match in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", requirements, re.MULTILINE)
    } | LAMBDA_RUNTIME_DISTRIBUTIONS
    return {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if not module.startswith("_") and not {_distribution_key(d) for d in distributions} & layer
    } - {"agenthub", "tests"}


def _distribution_key(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _seed(api_url: str) -> None:
    from agenthub import composition
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.services.seed import seed_demo

    composition.reset()
    with transaction(get_sessionmaker()) as db:
        seed_demo(db, keyring=get_keyring(), api_url=api_url)
    composition.reset()  # the parent keeps no connection open while the children run


def _use_fake_openai(cleanup: contextlib.ExitStack) -> None:
    """The tenant on an OpenAI-compatible provider: the fake server, the real client."""
    from agenthub import composition
    from agenthub.composition import get_config_cache, get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import TenantRepository
    from tests.support.fake_openai import FakeOpenAIServer
    from tests.support.scripted_model import ScriptedModel, use_fake_provider

    fake = FakeOpenAIServer(responder=ScriptedModel()).start()
    cleanup.callback(fake.stop)
    with transaction(get_sessionmaker()) as db:
        use_fake_provider(
            db,
            tenant_id=TENANT,
            keyring=get_keyring(),
            base_url=fake.base_url,
            api_key="sk-bench-cold-start",
        )
        version = TenantRepository(db).require(TENANT).config_version
    # As the reload consumer does after an admin change: without it the children would read the
    # offline tenant's config, still cached in Redis, and never import the provider's SDK.
    get_config_cache().invalidate(TENANT, new_version=version)
    composition.reset()


def _event(message: str, token: str) -> dict[str, object]:
    from tests.support.lambda_events import rest_event

    return rest_event(
        "POST",
        f"/api/{TENANT}/chat",
        body={"message": message},
        token=token,
        resource="/api/{tenant_id}/chat",
        path_parameters={"tenant_id": TENANT},
    )


# --- measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColdRun:
    ready_s: float  # process spawned -> first response produced (what a cold start costs)
    wall_s: float  # process spawned -> process exited (interpreter shutdown included)
    import_s: float
    request_s: float


def run_agenthub(setup: Setup, out: Path, *python_flags: str) -> tuple[ColdRun, str]:
    handler = REPO_ROOT / "functions" / "chat" / "handler.py"
    spawned_at, started = time.time(), time.perf_counter()
    result = subprocess.run(
        [sys.executable, *python_flags, "-c", CHILD, str(handler), str(setup.event_file), str(out)],
        env=setup.env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"the chat process failed:\n{result.stderr[-3000:]}")
    timings = json.loads(out.read_text())
    expected = setup.expected_agent
    if timings["status"] != 200 or (expected is not None and timings["agent"] != expected):
        raise RuntimeError(f"unexpected first answer: {timings}\n{result.stdout[-2000:]}")
    if timings["provider_sdk"] != setup.provider_sdk:
        raise RuntimeError(f"the tenant's provider was not the one measured: {timings}")
    ready = timings["answered_at"] - spawned_at
    return ColdRun(ready, wall, timings["import_s"], timings["request_s"]), result.stderr


def run_baseline(env: dict[str, str], baseline: str = BASELINE) -> ColdRun:
    code = f"{LAYER_ONLY}\n{baseline}\nimport sys, time\nsys.stdout.write(repr(time.time()))"
    spawned_at, started = time.time(), time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    ready = float(result.stdout) - spawned_at
    return ColdRun(ready, wall, import_s=ready, request_s=0.0)


def import_cost_by_package(importtime_log: str, top: int = 12) -> list[tuple[str, float]]:
    """(top-level package, ms) summed over the self time of its modules, heaviest first.

    Reads `python -X importtime` lines (`import time: self_us | cumulative_us | module`). Self
    times add up without double counting, so the list says which distributions cost the most.
    """
    totals: dict[str, float] = {}
    for line in importtime_log.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|", 2)
        package = name.strip().split(".")[0]
        totals[package] = totals.get(package, 0.0) + float(self_us) / 1000
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)[:top]


@dataclass(frozen=True)
class Result:
    provider: str
    ours: list[ColdRun]
    baseline: list[ColdRun]
    baseline_code: str
    importtime_log: str
    without_bytecode: list[ColdRun]
    config_miss: list[ColdRun]

    def median_ms(self, runs: list[ColdRun], field: str) -> float:
        return statistics.median(getattr(run, field) for run in runs) * 1000

    @property
    def pair_ratios(self) -> list[float]:
        return sorted(a.ready_s / b.ready_s for a, b in zip(self.ours, self.baseline, strict=True))

    @property
    def ratio(self) -> float:
        """Median of the interleaved pairs' ratios."""
        return statistics.median(self.pair_ratios)


def measure(
    ready: Setup,
    provider: str,
    *,
    runs: int,
    importtime: bool,
    without_bytecode: bool,
    config_miss: bool = False,
) -> Result:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "timings.json"
        run_agenthub(ready, out)  # warm the OS file cache and .pyc files: Lambda's are warm too
        run_baseline(ready.env, ready.baseline)
        ours: list[ColdRun] = []
        baseline: list[ColdRun] = []
        for _ in range(runs):
            ours.append(run_agenthub(ready, out)[0])
            baseline.append(run_baseline(ready.env, ready.baseline))
        log = run_agenthub(ready, out, "-X", "importtime")[1] if importtime else ""
        uncached: list[ColdRun] = []
        if without_bytecode:
            # An empty cache directory to read from, and nothing written: every import compiles.
            no_cache = {
                **ready.env,
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONPYCACHEPREFIX": str(Path(scratch) / "no-bytecode"),
            }
            compiling = Setup(
                no_cache, ready.event_file, ready.expected_agent, ready.baseline, ready.provider_sdk
            )
            uncached = [run_agenthub(compiling, out)[0] for _ in range(max(1, runs // 2))]
        missed: list[ColdRun] = []
        for _ in range(max(1, runs // 2) if config_miss else 0):
            _forget_cached_config()
            missed.append(run_agenthub(ready, out)[0])
    return Result(provider, ours, baseline, ready.baseline, log, uncached, missed)


def _forget_cached_config() -> None:
    """The tenant's version and configs gone from Redis, as after the cache's TTL."""
    from agenthub.cache.keys import runtime_pattern, version_key
    from agenthub.composition import get_redis

    client = get_redis()
    client.delete(version_key(TENANT), *client.keys(runtime_pattern(TENANT)))


def report(result: Result, *, runs: int, debt: bool) -> None:
    a = result.median_ms(result.ours, "ready_s")
    b = result.median_ms(result.baseline, "ready_s")
    what = "a debt question (tool call)" if debt else "a greeting"
    print(f"Cold start, {result.provider} tenant: {runs} interleaved pairs of processes ({what})")
    print("  from process spawn to the first response (to the end of the imports for b)")
    print(f"  (a) chat handler: import + first request  {a:8.0f} ms")
    imported, first = (result.median_ms(result.ours, f) for f in ("import_s", "request_s"))
    print(f"        handler import                        {imported:8.0f} ms")
    print(f"        first request                         {first:8.0f} ms")
    print(f"  (b) {result.baseline_code}")
    print(f"                                              {b:8.0f} ms")
    ratio = result.ratio
    verdict = "ok" if ratio <= TARGET_RATIO else f"above the {TARGET_RATIO}x aim"
    print(f"  ratio a/b (median of pairs)                 {ratio:8.2f}x  ({verdict})")
    # The spread says whether the verdict is decided: on a shared machine the baseline process
    # alone can move by a fifth between windows.
    pairs = result.pair_ratios
    fastest_b, slowest_b = (f(r.ready_s for r in result.baseline) * 1000 for f in (min, max))
    spread_b = f"(b) from {fastest_b:.0f} to {slowest_b:.0f} ms"
    print(f"    pairs from {pairs[0]:.2f}x to {pairs[-1]:.2f}x; {spread_b}")
    if result.without_bytecode:
        compiled = result.median_ms(result.without_bytecode, "ready_s")
        print(
            f"  (a) with no bytecode (a layer without .pyc)  {compiled:8.0f} ms  "
            f"({compiled / a:.1f}x (a), {len(result.without_bytecode)} runs)"
        )
    if result.config_miss:
        missed = result.median_ms(result.config_miss, "ready_s")
        first = result.median_ms(result.config_miss, "request_s")
        print(
            f"  (a) with the config in no cache            {missed:8.0f} ms  "
            f"(first request {first:.0f} ms, {len(result.config_miss)} runs)"
        )
    exit_a = result.median_ms(result.ours, "wall_s") - a
    exit_b = result.median_ms(result.baseline, "wall_s") - b
    print(f"  (process exit, not part of a cold start: a {exit_a:.0f} ms, b {exit_b:.0f} ms)")
    if result.importtime_log:
        print("\nImport time of (a) by package (python -X importtime, self times summed):")
        for package, ms in import_cost_by_package(result.importtime_log):
            print(f"  {ms:8.1f} ms  {package}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="pairs of processes (5)")
    parser.add_argument("--debt", action="store_true", help="ask a debt question (calls a tool)")
    parser.add_argument("--importtime", action="store_true", help="list the heaviest imports")
    parser.add_argument(
        "--without-bytecode",
        action="store_true",
        help="also time (a) compiling every module, as from a layer without .pyc files",
    )
    parser.add_argument(
        "--config-miss",
        action="store_true",
        help="also time (a) with the tenant's config in no cache (read from PostgreSQL)",
    )
    parser.add_argument(
        "--provider", choices=("offline", "openai", "both"), default="both", help="(both)"
    )
    parser.add_argument(
        "--dev-environment",
        action="store_true",
        help="let both processes import what the development environment holds, not only "
        "what the Lambda layer and runtime hold",
    )
    args = parser.parse_args()
    global DEV_ENVIRONMENT
    DEV_ENVIRONMENT = args.dev_environment

    providers = ("offline", "openai") if args.provider == "both" else (args.provider,)
    results = []
    with setup(debt=args.debt) as prepare:
        for provider in providers:  # offline first: switching to the fake provider is one-way
            ready = prepare(provider)
            result = measure(
                ready,
                provider,
                runs=args.runs,
                importtime=args.importtime,
                without_bytecode=args.without_bytecode,
                config_miss=args.config_miss,
            )
            report(result, runs=args.runs, debt=args.debt)
            print(flush=True)
            results.append(result)
    summary = ", ".join(f"{r.provider} {r.ratio:.2f}x" for r in results)
    print(f"Cold-start ratios (aim <= {TARGET_RATIO}x): {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
