"""What one chat turn costs us, next to the same flow as a bare LangGraph graph.

Both flows make the same calls to the same servers: supervisor model call -> agent model call
-> HTTP tool call to the demo business API -> final model call, with a zero-latency fake model
(FakeOpenAIServer answering instantly) and LangGraph's PostgresSaver on the same PostgreSQL.

- agenthub: an API Gateway event through the chat Lambda handler (auth, tenant config, compiled
  graph, memory, tool registry, output shaping, session and message rows, metrics).
- bare: a hand-written 3-node graph (supervisor, agent, tool via httpx) with the same saver.
  By default it sends the model the same requests as ours (the system prompts, the tool
  definitions with their JSON schemas, tool_choice, max_completion_tokens: recorded from one of
  our turns), so the ratio measures the runtime, not the size of the tenant's prompts;
  `--minimal-bare` gives it two-line prompts and one-field tools instead (the earlier bench).
  Its saver's pool prepares statements server-side (`prepare_threshold=0`, as LangGraph
  documents it); ours cannot, since prepared statements pin RDS Proxy sessions
  (agenthub.db.pool). `--bare-unprepared` gives the bare saver our connection settings, to
  see how much of the ratio that constraint is. Our provider client posts its requests
  without the openai SDK's request transform (agenthub/llm/openai_completions.py);
  `--bare-plain-json` gives the bare graph that client too, to see our runtime's own share.

Real PostgreSQL and Redis: embedded in a temp dir unless DATABASE_URL / REDIS_URL are set (then
a temporary database is created in that server and dropped at the end).

    uv run python bench/chat_turn.py [--turns 50] [--warmup 5] [--profile] [--direct-answers]
                                     [--minimal-bare] [--bare-unprepared] [--bare-plain-json]
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TextIO, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ISSUER = "https://auth.bench.agenthub"
AUDIENCE = "agenthub-bench"
TENANT, USER = "acme", "bench-user"
MESSAGE = "Debt for MST 0123456789"
SLOWER_THAN_BARE_LIMIT = 1.25  # issue 8: wall time and CPU per turn
OURS = "agenthub (chat Lambda handler)"
ANSWER_TOOL = "final_answer"  # agenthub.agents.output.ANSWER_TOOL
DIRECT_ANSWERS = False  # --direct-answers: our default flow (card mapped from the tool result)
MINIMAL_BARE = False  # --minimal-bare: the bare graph's own short prompts and tools
# --bare-unprepared: the bare saver without server-side prepared statements, as ours (None).
BARE_PREPARE_THRESHOLD: int | None = 0
BARE_PLAIN_JSON = False  # --bare-plain-json: the bare model posts without the SDK transform
# More of the tenant's LLM `extra` settings, for benches that reuse this stack (bench/stream.py).
LLM_EXTRA: dict[str, Any] = {}


@dataclass(frozen=True)
class Stack:
    """Everything both flows share, started once."""

    api_url: str
    fake: Any  # tests.support.fake_openai.FakeOpenAIServer
    token: str
    api_key: str


# --- setting up -------------------------------------------------------------------------------


@contextlib.contextmanager
def stack() -> Iterator[Stack]:
    from _stack import business_api, embedded_redis, temporary_database  # bench/_stack.py
    from cryptography.fernet import Fernet

    from agenthub.auth.devkeys import ensure_dev_key_pair, mint_token
    from tests.support.fake_openai import FakeOpenAIServer
    from tests.support.scripted_model import ScriptedModel

    state = Path(tempfile.mkdtemp(prefix="agenthub-bench-turn-"))
    # Registered first, so it runs last: after the embedded servers' own exit handlers.
    atexit.register(shutil.rmtree, state, ignore_errors=True)
    keys = ensure_dev_key_pair(state)
    for name in [name for name in os.environ if name.startswith("AGENTHUB_")]:
        del os.environ[name]  # the shell's settings must not change what is measured
    with contextlib.ExitStack() as cleanup:
        database_url = cleanup.enter_context(temporary_database(state, prefix="agenthub_bench"))
        redis_url = os.environ.get("REDIS_URL") or embedded_redis(state, cleanup)
        api_url = business_api(keys.public_pem, issuer=ISSUER, audience=AUDIENCE, cleanup=cleanup)
        fake = cleanup.enter_context(FakeOpenAIServer(responder=ScriptedModel()))
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
        api_key = "sk-bench-acme"
        _seed(api_url=api_url, fake_base_url=fake.base_url, api_key=api_key)
        token = mint_token(
            private_key_pem=keys.private_pem,
            kid=keys.kid,
            tenant_id=TENANT,
            user_id=USER,
            ttl_s=3600,
            issuer=ISSUER,
            audience=AUDIENCE,
        )
        yield Stack(api_url, fake, token, api_key)


def _seed(*, api_url: str, fake_base_url: str, api_key: str) -> None:
    from sqlalchemy import update

    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.db.models import TenantLlmConfig
    from agenthub.repositories import TenantRepository
    from agenthub.services.seed import seed_demo
    from tests.support.scripted_model import use_fake_provider

    with transaction(get_sessionmaker()) as db:
        seed_demo(db, keyring=get_keyring(), api_url=api_url)
        tenants = TenantRepository(db)
        tenants.update_settings(  # we measure turns, not the tenant's rate limit
            tenant_id=TENANT,
            expected_version=tenants.require(TENANT).version,
            changes={"rate_limit_per_minute": 100_000},
        )
        use_fake_provider(
            db, tenant_id=TENANT, keyring=get_keyring(), base_url=fake_base_url, api_key=api_key
        )
        extra = dict(LLM_EXTRA)
        if not DIRECT_ANSWERS:
            # Like for like: the model writes the card after the tool call, as in the bare flow
            # (by default the card is mapped from the tool's result: one model call fewer).
            extra["direct_tool_answers"] = False
        if extra:
            db.execute(
                update(TenantLlmConfig)
                .where(TenantLlmConfig.tenant_id == TENANT)
                .values(extra=extra)
            )
            tenants.bump_config_version(tenant_id=TENANT)


# --- the two flows ----------------------------------------------------------------------------


class State(TypedDict):
    """The bare graph's state: the conversation, and the supervisor's choice."""

    messages: Annotated[list[AnyMessage], add_messages]
    route: str | None


def agenthub_turn(env: Stack) -> Callable[[], None]:
    """One turn through the chat Lambda handler, as API Gateway would invoke it."""
    from tests.support.lambda_events import invoke, load_handler, rest_event

    handler = load_handler("chat")

    def turn() -> None:
        event = rest_event(
            "POST",
            f"/api/{TENANT}/chat",
            body={"message": MESSAGE},
            token=env.token,
            resource="/api/{tenant_id}/chat",
            path_parameters={"tenant_id": TENANT},
        )
        result = invoke(handler, event)
        if result.status != 200 or result.body["agent"] != "debt":
            raise RuntimeError(f"agenthub turn failed: {result.status} {result.body}")

    return turn


@dataclass(frozen=True)
class ModelRequests:
    """What the bare graph sends the model: system prompt, tools and parameters per step."""

    supervisor_prompt: str
    supervisor_tools: list[dict[str, Any]]
    agent_prompt: str
    agent_tools: list[dict[str, Any]]
    agent_tool_choice: str | None = None
    max_completion_tokens: int | None = None


def minimal_requests() -> ModelRequests:
    from tests.support.scripted_model import DEBT_TOOL

    def function(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
        parameters = {"type": "object", "properties": properties, "required": list(properties)}
        return {
            "type": "function",
            "function": {"name": name, "description": description, "parameters": parameters},
        }

    reason = {"reason": {"type": "string"}}
    return ModelRequests(
        supervisor_prompt="Route the request.",
        supervisor_tools=[
            function("transfer_to_debt", "Hand the request to the Debt agent", reason),
            function("transfer_to_shipment", "Hand the request to the Shipment agent", reason),
        ],
        agent_prompt="You are the Debt agent.",
        agent_tools=[
            function(DEBT_TOOL, "Look up a customer's debt by MST", {"mst": {"type": "string"}})
        ],
    )


def recorded_requests(env: Stack, ours: Callable[[], None]) -> ModelRequests:
    """Our turn's first two model requests (supervisor, agent), as the fake server got them."""
    env.fake.reset()
    ours()
    supervisor, agent = (request.body for request in env.fake.chat_requests[:2])
    env.fake.reset()

    def system(body: dict[str, Any]) -> str:
        first = body["messages"][0]
        assert first["role"] == "system", first
        return str(first["content"])

    return ModelRequests(
        supervisor_prompt=system(supervisor),
        supervisor_tools=supervisor["tools"],
        agent_prompt=system(agent),
        agent_tools=agent["tools"],
        agent_tool_choice=agent.get("tool_choice"),
        max_completion_tokens=agent.get("max_completion_tokens"),
    )


def bare_turn(env: Stack, requests: ModelRequests) -> Callable[[], None]:
    """The same flow as a minimal hand-written LangGraph graph with the same PostgresSaver."""
    import httpx
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
    from langchain_core.runnables import RunnableConfig
    from langchain_openai import ChatOpenAI
    from langgraph.checkpoint.postgres import PostgresSaver
    from langgraph.graph import END, START, StateGraph
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    from agenthub.composition import database_url
    from agenthub.db.engine import libpq_url

    model = ChatOpenAI(
        model="gpt-fake",
        api_key=env.api_key,
        base_url=env.fake.base_url,
        temperature=0,
        max_completion_tokens=requests.max_completion_tokens,
        max_retries=0,
        timeout=20,
    )
    if BARE_PLAIN_JSON:  # our provider client (agenthub/llm/openai_completions.py) for both
        from agenthub.llm.openai_completions import plain_json_completions

        model.client, model.async_client = plain_json_completions(
            model.root_client, model.root_async_client
        )
    supervisor = model.bind_tools(requests.supervisor_tools)
    agent = model.bind_tools(requests.agent_tools, tool_choice=requests.agent_tool_choice)
    supervisor_prompt = SystemMessage(requests.supervisor_prompt)
    agent_prompt = SystemMessage(requests.agent_prompt)
    http = httpx.Client(timeout=5)

    def route(state: State) -> dict[str, Any]:
        reply = supervisor.invoke([supervisor_prompt, *state["messages"]])
        assert isinstance(reply, AIMessage)
        return {"route": reply.tool_calls[0]["name"] if reply.tool_calls else None}

    def act(state: State) -> dict[str, Any]:
        reply = agent.invoke([agent_prompt, *state["messages"]])
        return {"messages": [reply]}

    def wants_tool(state: State) -> bool:
        # The answer tool (structured output) ends the turn; any other call runs the tool.
        last = state["messages"][-1]
        return isinstance(last, AIMessage) and any(
            call["name"] != ANSWER_TOOL for call in last.tool_calls
        )

    def call_tool(state: State, config: RunnableConfig) -> dict[str, Any]:
        last = state["messages"][-1]
        assert isinstance(last, AIMessage)
        call = last.tool_calls[0]
        jwt = config["configurable"]["user_jwt"]
        response = http.get(
            f"{env.api_url}/erp/customers/{call['args']['mst']}/debt",
            headers={"Authorization": f"Bearer {jwt}"},
        )
        response.raise_for_status()
        return {"messages": [ToolMessage(response.text, tool_call_id=call["id"])]}

    graph = StateGraph(State)
    graph.add_node("route", route)
    graph.add_node("act", act)
    graph.add_node("tool", call_tool)
    graph.add_edge(START, "route")
    graph.add_conditional_edges("route", lambda s: "act" if s["route"] else END, ["act", END])
    graph.add_conditional_edges("act", lambda s: "tool" if wants_tool(s) else END, ["tool", END])
    graph.add_edge("tool", "act")
    # The saver as LangGraph documents it: a psycopg pool of its own, its connection settings.
    pool: ConnectionPool[Any] = ConnectionPool(
        libpq_url(database_url()),
        min_size=1,
        max_size=2,
        kwargs={
            "autocommit": True,
            "prepare_threshold": BARE_PREPARE_THRESHOLD,
            "row_factory": dict_row,
        },
        open=True,
    )
    atexit.register(pool.close)
    compiled = graph.compile(checkpointer=PostgresSaver(pool))  # type: ignore[arg-type]

    def turn() -> None:
        config: RunnableConfig = {
            "configurable": {"thread_id": f"bench__{uuid.uuid4()}", "user_jwt": env.token}
        }
        state = compiled.invoke(
            {"messages": [HumanMessage(MESSAGE)], "route": None}, config, durability="exit"
        )
        last = state["messages"][-1]
        answer = str(last.tool_calls[0]["args"] if last.tool_calls else last.content)
        if "owes" not in answer:
            raise RuntimeError(f"bare turn failed: {last}")

    return turn


# --- measuring --------------------------------------------------------------------------------


@contextlib.contextmanager
def quiet_stdout() -> Iterator[TextIO]:
    """Send the app's JSON logs and metrics to /dev/null (still formatted: that is part of a
    turn's cost); yield the real stdout for the report."""
    import logging

    from agenthub.observability import get_logger

    real = sys.stdout
    handlers = [
        handler
        for logger in (get_logger(), logging.getLogger())
        for handler in logger.handlers
        # The root logger's handler (stderr) gets every record a second time (propagation).
        if isinstance(handler, logging.StreamHandler) and handler.stream in (real, sys.stderr)
    ]
    streams = [handler.stream for handler in handlers]
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        for handler in handlers:
            handler.setStream(devnull)
        try:
            yield real
        finally:
            for handler, stream in zip(handlers, streams, strict=True):
                handler.setStream(stream)


@dataclass(frozen=True)
class Sample:
    wall_ms: float
    cpu_ms: float  # CPU time of the thread that ran the turn and of the threads it started


class StartedThreadsCpu:
    """CPU time of the threads a turn starts, added up when each one ends.

    LangGraph's ToolNode runs each tool call in a thread pool of its own (started and joined
    within the call), so the turn thread's clock alone would leave our tool call out while the
    bare graph's tool node runs inline. The fake servers' threads are started by their own
    server threads, not by the turn, so they are not counted.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counted: set[int] = set()  # idents of the turn thread and of its descendants
        self._cpu_s = 0.0
        start, run, owner = threading.Thread.start, threading.Thread.run, self

        def start_counted(thread: threading.Thread) -> None:
            thread._bench_counted = threading.get_ident() in owner._counted  # type: ignore[attr-defined]
            start(thread)

        def run_counted(thread: threading.Thread) -> None:
            if not getattr(thread, "_bench_counted", False):
                return run(thread)
            with owner._lock:
                owner._counted.add(threading.get_ident())
            try:
                return run(thread)
            finally:
                with owner._lock:
                    owner._counted.discard(threading.get_ident())
                    owner._cpu_s += time.thread_time()

        threading.Thread.start = start_counted  # type: ignore[method-assign]
        threading.Thread.run = run_counted  # type: ignore[method-assign]

    @contextlib.contextmanager
    def counting(self) -> Iterator[Callable[[], float]]:
        """Count the threads the calling thread starts; yields the CPU seconds so far."""
        with self._lock:
            self._counted.add(threading.get_ident())
        try:
            yield lambda: self._cpu_s
        finally:
            with self._lock:
                self._counted.discard(threading.get_ident())


STARTED_THREADS: StartedThreadsCpu | None = None


def timed(turn: Callable[[], None]) -> Sample:
    global STARTED_THREADS
    STARTED_THREADS = STARTED_THREADS or StartedThreadsCpu()
    with STARTED_THREADS.counting() as started_threads_cpu:
        before = started_threads_cpu()
        started, cpu_started = time.perf_counter(), time.thread_time()
        turn()
        wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
        cpu += started_threads_cpu() - before
    return Sample(wall * 1000, cpu * 1000)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def measure(
    flows: dict[str, Callable[[], None]], *, turns: int, warmup: int
) -> dict[str, list[Sample]]:
    """Warm up each flow, then alternate them turn by turn (same background load for both)."""
    for turn in flows.values():
        for _ in range(warmup):
            turn()
    samples: dict[str, list[Sample]] = {name: [] for name in flows}
    for _ in range(turns):
        for name, turn in flows.items():
            samples[name].append(timed(turn))
    return samples


def profile(turn: Callable[[], None], *, turns: int, out: TextIO) -> None:
    """cProfile the turns: the handler's thread, and the worker thread the endpoint runs in
    (FastAPI runs a plain `def` endpoint in a thread pool; cProfile sees one thread)."""
    import cProfile
    import functools
    import io
    import pstats

    from agenthub.services.chat import ChatService

    # CPU time, not wall time: the fake servers run in this process, and a wall-clock profile
    # charges their GIL turns to whatever our thread was doing.
    handler, service = cProfile.Profile(time.thread_time), cProfile.Profile(time.thread_time)
    original = ChatService.handle

    @functools.wraps(original)
    def profiled(self: ChatService, turn: Any) -> Any:
        service.enable()
        try:
            return original(self, turn)
        finally:
            service.disable()

    ChatService.handle = profiled  # type: ignore[method-assign]
    try:
        handler.enable()
        for _ in range(turns):
            turn()
        handler.disable()
    finally:
        ChatService.handle = original  # type: ignore[method-assign]
    for title, profiler in (("ChatService.handle", service), ("handler thread", handler)):
        for order in ("cumulative", "tottime"):
            buffer = io.StringIO()
            stats = pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(order)
            stats.print_stats(30)
            out.write(f"\n--- {title}, top 30 by {order} ({turns} turns) ---\n")
            out.write(buffer.getvalue().split("\n", 4)[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=50, help="measured turns per flow")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured turns per flow first")
    parser.add_argument("--profile", action="store_true", help="cProfile the agenthub turn")
    parser.add_argument(
        "--minimal-bare",
        action="store_true",
        help="the bare graph sends its own two-line prompts and one-field tools (by default "
        "it sends the same requests as ours)",
    )
    parser.add_argument(
        "--direct-answers",
        action="store_true",
        help="our default flow: the card mapped from the tool's result, one model call fewer "
        "(without it both flows make the same three model calls)",
    )
    parser.add_argument(
        "--bare-unprepared",
        action="store_true",
        help="the bare saver's connections prepare no statements, as ours must behind RDS Proxy "
        "(by default they prepare, as LangGraph documents the saver)",
    )
    parser.add_argument(
        "--bare-plain-json",
        action="store_true",
        help="the bare graph's model posts its requests without the openai SDK's transform, "
        "as ours does (by default it uses the SDK as it comes)",
    )
    args = parser.parse_args()
    global DIRECT_ANSWERS, MINIMAL_BARE, BARE_PREPARE_THRESHOLD, BARE_PLAIN_JSON
    DIRECT_ANSWERS, MINIMAL_BARE = args.direct_answers, args.minimal_bare
    BARE_PLAIN_JSON = args.bare_plain_json
    BARE_PREPARE_THRESHOLD = None if args.bare_unprepared else 0
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")  # pgserver's platformdirs
    if args.turns < 2:
        parser.error("--turns must be at least 2")

    with stack() as env, quiet_stdout() as out:
        ours = agenthub_turn(env)
        requests = minimal_requests() if MINIMAL_BARE else recorded_requests(env, ours)
        flows = {OURS: ours, "bare LangGraph": bare_turn(env, requests)}
        env.fake.reset()
        for turn in flows.values():
            turn()
        calls_per_turn = len(env.fake.chat_requests) / len(flows)
        samples = measure(flows, turns=args.turns, warmup=args.warmup)
        ours, bare = ([s.wall_ms for s in samples[name]] for name in flows)
        width = max(map(len, flows))
        out.write(
            f"\nchat turn: {args.turns} turns per flow after {args.warmup} warm-up, "
            f"{calls_per_turn:g} model calls + 1 tool call each; the bare graph sends "
            + ("its own minimal requests" if MINIMAL_BARE else "the same requests as ours")
            + (
                ", its saver prepares no statements (as ours)\n\n"
                if BARE_PREPARE_THRESHOLD is None
                else "\n\n"
            )
        )
        out.write(
            f"{'flow':<{width}}  {'median ms':>10}  {'p95 ms':>8}  {'mean ms':>8}  "
            f"{'CPU ms (median)':>15}\n"
        )
        for name, values in samples.items():
            walls = [s.wall_ms for s in values]
            out.write(
                f"{name:<{width}}  {statistics.median(walls):>10.1f}  {p95(walls):>8.1f}  "
                f"{statistics.fmean(walls):>8.1f}  "
                f"{statistics.median(s.cpu_ms for s in values):>15.1f}\n"
            )
        ratio = statistics.median(ours) / statistics.median(bare)
        ratio_p95 = p95(ours) / p95(bare)
        cpu_ours, cpu_bare = (statistics.median(s.cpu_ms for s in samples[n]) for n in flows)
        out.write(
            f"{'ratio agenthub / bare':<{width}}  {ratio:>10.2f}  {ratio_p95:>8.2f}  {'':>8}  "
            f"{cpu_ours / cpu_bare:>15.2f}\n"
        )
        if ratio > SLOWER_THAN_BARE_LIMIT and not args.profile:
            out.write(f"\nmedian ratio above {SLOWER_THAN_BARE_LIMIT}: run with --profile\n")
        if args.profile:
            profile(flows[OURS], turns=args.turns, out=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
