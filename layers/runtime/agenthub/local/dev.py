"""`agenthub dev`: the whole system on this machine, on embedded real services.

Start order: local AWS (moto, or AWS_ENDPOINT_URL) -> PostgreSQL + migrations -> Redis -> demo
business API -> demo seed -> API gateway (template.yaml's routes, real handlers) -> reload queue
poller -> retention schedule. Everything started is stopped in reverse order on Ctrl-C/SIGTERM,
or when start-up fails half way; state (database, keys) stays in the state directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from agenthub.errors import AgentHubError, ConfigurationError

if TYPE_CHECKING:
    from agenthub.local.aws import LocalAwsResources
    from agenthub.local.chroma import EmbeddedChroma
    from agenthub.local.lambda_runtime import FunctionRunner
    from agenthub.local.template_routes import FunctionSpec

DEMO_TENANT = "acme"
DEMO_USER = "alice"
DEMO_MESSAGE = "Debt for MST 0123456789"
WARM_UP_USER = "warm-up"  # start-up's own chat turn, apart from the demo user's sessions
DEV_TOKEN_TTL_S = 8 * 3600
RETENTION_RULE = "agenthub-local-retention"
PROVIDER_HINT = (
    "set OPENAI_API_KEY, OPENROUTER_API_KEY, or AGENTHUB_BEDROCK_MODEL with AWS credentials "
    "to use a real one"
)


@dataclass(frozen=True)
class DevOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    api_port: int = 8001
    aws_port: int = 4566
    embedded: bool = True
    reset: bool = False
    state_dir: Path | None = None
    template: Path | None = None
    retention_every_min: float = 60.0
    poll_wait_s: int = 2


class Console:
    """Start-up progress and runtime lines for a person at a terminal (not the JSON logs)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()
        encoding = getattr(self._stream, "encoding", None) or "ascii"
        try:
            "✓✗→".encode(encoding)
            self.ok, self.fail, self.arrow = "✓", "✗", "→"
        except (UnicodeEncodeError, LookupError):
            self.ok, self.fail, self.arrow = "ok", "x", "->"

    def line(self, text: str = "") -> None:
        with self._lock:
            print(text, file=self._stream, flush=True)

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[StepNote]:
        """Time one component; prints `✓ label detail ... 0.6 s` or `✗ label: why`."""
        note = StepNote()
        started = time.monotonic()
        try:
            yield note
        except BaseException as exc:
            reason = exc.message if isinstance(exc, AgentHubError) else f"{exc!r}"
            if isinstance(exc, KeyboardInterrupt):
                reason = "interrupted"
            self.line(f"{self.fail} {label}: {reason}")
            raise
        detail = f" {note.detail}" if note.detail else ""
        self.line(f"{self.ok} {label}{detail} ... {time.monotonic() - started:.1f} s")


@dataclass
class StepNote:
    detail: str = ""


@dataclass
class StackInfo:
    """What the ready banner shows."""

    gateway_url: str = ""
    api_url: str = ""
    aws_url: str = ""
    llm: str = ""
    routes: list[str] = field(default_factory=list)


def llm_description(provider: str, model: str) -> str:
    if provider == "offline":
        return f"offline deterministic model ({PROVIDER_HINT})"
    return f"{provider} {model} (from the environment)"


def prune_dead_pgserver_handles(data_dir: Path) -> None:
    """Forget processes that used the embedded PostgreSQL and died without saying so.

    pgserver stops the server when its last user exits, counting users in this file; a run that
    was killed (SIGKILL) stays listed forever and would keep the server alive after every
    later run.
    """
    handles = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _process_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DevStack:
    """Starts the components one by one and remembers how to stop each of them."""

    def __init__(self, options: DevOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.info = StackInfo()
        self._cleanup = contextlib.ExitStack()
        self._runners: dict[str, FunctionRunner] = {}
        self._functions: dict[str, FunctionSpec] = {}
        self._resources: LocalAwsResources | None = None
        self._chroma: EmbeddedChroma | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> StackInfo:
        self._prepare()
        self._spawn_chroma()  # it takes seconds to come up: meanwhile the rest starts
        endpoint = self._start_aws()
        self._start_database()
        self._start_redis()
        self._start_demo_api()
        self._start_chroma()
        self._seed()
        self._start_gateway()
        self._warm_chat()
        self._start_poller(endpoint)
        self._start_ingest_poller(endpoint)
        self._index_demo_knowledge()
        self._start_schedule()
        return self.info

    def stop(self) -> None:
        self._cleanup.close()

    def _setenv(self, name: str, value: str) -> None:
        previous = os.environ.get(name)
        os.environ[name] = value

        def restore() -> None:
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous

        self._cleanup.callback(restore)

    # -- steps ------------------------------------------------------------------------------

    def _prepare(self) -> None:
        from agenthub import composition
        from agenthub.embedded import port_in_use, reset_state_dir
        from agenthub.settings import get_settings

        opts = self.options
        if opts.state_dir is not None:
            self._setenv("AGENTHUB_STATE_DIR", str(opts.state_dir))
        self._cleanup.callback(composition.reset)  # last: after every user of the clients
        composition.reset()
        settings = get_settings()
        if not settings.is_local:
            raise ConfigurationError(
                f"agenthub dev runs in local mode only (AGENTHUB_ENV is {settings.env!r})"
            )
        if not opts.embedded:
            missing = [
                name
                for name in ("DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL")
                if not os.environ.get(name)
            ]
            if missing:
                raise ConfigurationError(
                    f"--no-embedded needs {', '.join(missing)} set (for example from "
                    "localstack-compose.yml); or drop --no-embedded to use the embedded services"
                )
        ports = [
            (opts.port, "API gateway", "--port"),
            (opts.api_port, "demo business API", "--api-port"),
        ]
        if not os.environ.get("AWS_ENDPOINT_URL"):
            ports.append((opts.aws_port, "local AWS endpoint", "--aws-port"))
        for port, what, flag in ports:
            if port_in_use(port, opts.host):
                from agenthub.local.http_server import PortInUseError

                raise PortInUseError(
                    port,
                    what,
                    f"stop what holds it (another `agenthub dev`?) or choose another with {flag}",
                )
        self.console.line("AgentHub local stack")
        state_dir = Path(settings.state_dir).resolve()
        if opts.reset:
            reset_state_dir(state_dir)
            self.console.line(f"  state directory {state_dir} wiped (--reset)")
        else:
            self.console.line(f"  state directory {state_dir} (kept between runs)")

    def _start_aws(self) -> str:
        from agenthub import composition
        from agenthub.crypto import LOCAL_KEY_FILE, local_key
        from agenthub.local.aws import (
            LocalAwsServer,
            bootstrap,
            local_aws_environment,
            local_credentials_environment,
        )
        from agenthub.services.seed import detect_provider
        from agenthub.settings import get_settings

        opts = self.options
        settings = get_settings()
        configured = os.environ.get("AWS_ENDPOINT_URL")
        provider, model, _, _ = detect_provider()
        self.info.llm = llm_description(provider, model)
        for name, value in local_credentials_environment(os.environ).items():
            self._setenv(name, value)
        region = os.environ.get("AWS_REGION") or os.environ["AWS_DEFAULT_REGION"]
        label = "Local AWS (AWS_ENDPOINT_URL)" if configured else "Local AWS (moto server)"
        with self.console.step(label) as step:
            if configured:
                endpoint = configured
            else:
                server = LocalAwsServer(host=opts.host, port=opts.aws_port)
                endpoint = server.start()
                self._cleanup.callback(server.stop)
            keys = [key.get_secret_value() for key in settings.crypto.fernet_keys]
            fernet = ",".join(keys) or local_key(Path(settings.state_dir) / LOCAL_KEY_FILE)
            self._resources = bootstrap(endpoint, fernet_key=fernet, region=region)
            env = local_aws_environment(
                self._resources, os.environ, keep_real_aws_for_others=provider == "bedrock"
            )
            for name, value in env.items():
                self._setenv(name, value)
            step.detail = endpoint
        self.info.aws_url = endpoint
        # The demo tools call the demo API on loopback, which the SSRF guard refuses by default.
        allow = [p for p in os.environ.get("AGENTHUB_TOOLS__SSRF_ALLOW", "").split(",") if p]
        for entry in ("127.0.0.1/32", "localhost"):
            if entry not in allow:
                allow.append(entry)
        self._setenv("AGENTHUB_TOOLS__SSRF_ALLOW", ",".join(allow))
        self._setenv("AGENTHUB_DEMO_API_URL", f"http://{opts.host}:{opts.api_port}")
        composition.reset()  # settings and clients see the new environment
        return endpoint

    def _start_database(self) -> None:
        from agenthub import composition
        from agenthub.db import migrate
        from agenthub.settings import get_settings

        settings = get_settings()
        embedded = settings.database.url is None
        label = "PostgreSQL (embedded)" if embedded else "PostgreSQL (DATABASE_URL)"
        with self.console.step(label):
            if embedded:
                with warnings.catch_warnings():
                    # platformdirs warns about XDG_RUNTIME_DIR when pgserver is imported.
                    warnings.simplefilter("ignore")
                    import pgserver  # noqa: F401
                data_dir = (Path(settings.state_dir) / "postgres").resolve()
                prune_dead_pgserver_handles(data_dir)
                url = composition.database_url()
                self._cleanup.callback(_stop_embedded_postgres, data_dir)
            else:
                url = composition.database_url()
        with self.console.step("Database migrations (alembic upgrade head)"):
            migrate.upgrade(url)

    def _start_redis(self) -> None:
        from agenthub import composition
        from agenthub.settings import get_settings

        embedded = get_settings().redis.url is None
        with self.console.step("Redis (embedded)" if embedded else "Redis (REDIS_URL)") as step:
            url = composition.redis_url()
            composition.get_redis().ping()
            step.detail = url if embedded else ""
        # composition.reset (registered first, so run last) stops the embedded server.

    def _start_demo_api(self) -> None:
        from agenthub.auth.devkeys import ensure_dev_key_pair
        from agenthub.demo.business_api import create_business_api
        from agenthub.local.http_server import ServerThread
        from agenthub.settings import get_settings

        settings = get_settings()
        auth = settings.auth
        with self.console.step("Demo business API") as step:
            # It checks the forwarded user JWT with the same key the AgentHub API uses.
            if auth.jwks_url:
                app = create_business_api(
                    jwks_url=auth.jwks_url, issuer=auth.issuer, audience=auth.audience
                )
            else:
                pem = (
                    auth.public_key_pem.get_secret_value()
                    if auth.public_key_pem is not None
                    else ensure_dev_key_pair(settings.state_dir).public_pem
                )
                app = create_business_api(
                    public_key_pem=pem, issuer=auth.issuer, audience=auth.audience
                )
            server = ServerThread(
                app,
                host=self.options.host,
                port=self.options.api_port,
                name="demo business API",
                hint="choose another with --api-port",
            ).start()
            self._cleanup.callback(server.stop)
            step.detail = server.url
        self.info.api_url = server.url

    def _seed(self) -> None:
        from agenthub.composition import get_keyring, get_sessionmaker
        from agenthub.db.engine import transaction
        from agenthub.services.seed import seed_demo

        with self.console.step("Demo seed") as step:
            with transaction(get_sessionmaker()) as db:
                report = seed_demo(db, keyring=get_keyring(), api_url=self.info.api_url)
            step.detail = (
                f"({report.tenants} tenants, {report.agents} agents, {report.tools} tools, "
                f"LLM {report.llm})"
            )

    def _start_gateway(self) -> None:
        from agenthub.local.gateway import LocalApiGateway
        from agenthub.local.http_server import ServerThread
        from agenthub.local.lambda_runtime import FunctionRunner, InvocationPool
        from agenthub.local.template_routes import (
            find_template,
            functions_from_template,
            load_template,
            routes_from_template,
        )
        from agenthub.settings import get_settings

        region = get_settings().aws.region
        with self.console.step("API gateway") as step:
            path = (self.options.template or find_template()).resolve()
            template = load_template(path)
            self._functions = functions_from_template(template, path.parent)
            routes = routes_from_template(template, path.parent)
            self._runners = {
                name: FunctionRunner(spec, region=region) for name, spec in self._functions.items()
            }
            pool = InvocationPool()
            self._cleanup.callback(pool.shutdown)
            gateway = LocalApiGateway(routes, self._runners, pool, on_call=self._print_call)
            server = ServerThread(
                gateway,
                host=self.options.host,
                port=self.options.port,
                name="API gateway",
                hint="choose another with --port",
            ).start()
            self._cleanup.callback(server.stop)
            step.detail = f"{server.url} ({len(routes)} routes from {path.name})"
        self.info.gateway_url = server.url
        for route in routes.routes:
            self.console.line(f"    {route.method:<7} {route.path:<40} {route.function.logical_id}")

    def _warm_chat(self) -> None:
        """Import the chat function and do its first request's set-up now (clients, the demo
        tenant's config and graph), so the first chat after "ready" answers as fast as the
        second. A failure here is reported, not fatal: the first chat then pays and says why."""
        from agenthub.local.template_routes import function_in_dir

        spec = function_in_dir(self._functions, "chat")
        if spec is None:
            return
        runner = self._runners[spec.logical_id]
        with self.console.step("Chat function warm-up") as step:
            runner.handler()  # the handler module, as a warm container
            try:
                from agenthub.api.chat import warm_up

                warm_up(DEMO_TENANT)
                step.detail = f"(tenant {DEMO_TENANT}: clients, config, graph"
                if self.info.llm.startswith("offline"):
                    # The first turn still pays for what only a turn warms (the graph's first
                    # run, checkpointer, tool client, SQL): one offline turn costs nothing.
                    status = runner.invoke(_warm_up_event(self.info.gateway_url))["statusCode"]
                    step.detail += f", one offline turn as user {WARM_UP_USER}: {status}"
                step.detail += ")"
            except Exception as exc:
                reason = exc.message if isinstance(exc, AgentHubError) else type(exc).__name__
                step.detail = f"(skipped for tenant {DEMO_TENANT}: {reason})"

    def _start_poller(self, endpoint: str) -> None:
        from agenthub.local.aws import aws_client
        from agenthub.local.poller import SqsEventSourcePoller
        from agenthub.local.template_routes import function_in_dir
        from agenthub.settings import get_settings

        spec = function_in_dir(self._functions, "config_reload")
        if spec is None or self._resources is None:
            self.console.line("  (no config_reload function in the template: no queue poller)")
            return
        region = get_settings().aws.region
        with self.console.step("Reload queue poller") as step:
            poller = SqsEventSourcePoller(
                sqs=aws_client("sqs", endpoint, region),
                queue_url=self._resources.queue_url,
                invoke=self._runners[spec.logical_id].invoke,
                wait_time_s=self.options.poll_wait_s,
                region=region,
                on_batch=lambda outcome: self._print_batch(spec.logical_id, outcome),
            )
            poller.queue_arn()
            poller.start()
            self._cleanup.callback(poller.stop)
            step.detail = f"agenthub-config-reload {self.console.arrow} {spec.logical_id}"

    # -- knowledge (RAG): Chroma, the ingestion queue, the demo policies ----------------------

    def _spawn_chroma(self) -> None:
        from agenthub.embedded import free_port
        from agenthub.local.chroma import EmbeddedChroma
        from agenthub.settings import get_settings

        if os.environ.get("CHROMA_URL"):
            return
        self._chroma = EmbeddedChroma(
            Path(get_settings().state_dir).resolve() / "chroma",
            port=free_port(),
            host=self.options.host,
        )
        self._chroma.spawn()
        self._cleanup.callback(self._chroma.stop)

    def _start_chroma(self) -> None:
        from agenthub import composition

        configured = os.environ.get("CHROMA_URL")
        with self.console.step("Chroma (CHROMA_URL)" if configured else "Chroma") as step:
            if configured or self._chroma is None:
                url = configured or ""
            else:
                url = self._chroma.wait_ready()
                self._setenv("CHROMA_URL", url)
                composition.reset()
            step.detail = url

    def _start_ingest_poller(self, endpoint: str) -> None:
        from agenthub.local.aws import aws_client
        from agenthub.local.poller import SqsEventSourcePoller
        from agenthub.local.template_routes import function_in_dir
        from agenthub.settings import get_settings

        spec = function_in_dir(self._functions, "ingest")
        if spec is None or self._resources is None or not self._resources.ingest_queue_url:
            self.console.line("  (no ingest function in the template: documents stay queued)")
            return
        region = get_settings().aws.region
        with self.console.step("Ingestion queue poller") as step:
            poller = SqsEventSourcePoller(
                sqs=aws_client("sqs", endpoint, region),
                queue_url=self._resources.ingest_queue_url,
                invoke=self._runners[spec.logical_id].invoke,
                wait_time_s=self.options.poll_wait_s,
                region=region,
                on_batch=lambda outcome: self._print_batch(
                    spec.logical_id, outcome, queue="ingestion queue"
                ),
            )
            poller.queue_arn()
            poller.start()
            self._cleanup.callback(poller.stop)
            step.detail = f"agenthub-ingest {self.console.arrow} {spec.logical_id}"

    def _index_demo_knowledge(self) -> None:
        from agenthub import composition
        from agenthub.services.seed_knowledge import queue_demo_documents

        with self.console.step("Demo knowledge (policies)") as step:
            publisher = composition.get_ingest_publisher()
            queued = queue_demo_documents(
                sessions=composition.get_sessionmaker(),
                store=composition.get_object_store(),
                enqueue=publisher.publish,
            )
            step.detail = (
                f"({queued} documents queued for indexing)" if queued else "(already indexed)"
            )

    def _start_schedule(self) -> None:
        from agenthub.local.schedule import IntervalSchedule
        from agenthub.local.template_routes import function_in_dir
        from agenthub.settings import get_settings

        spec = function_in_dir(self._functions, "retention")
        minutes = self.options.retention_every_min
        if spec is None or minutes <= 0:
            self.console.line("  (retention schedule off)")
            return
        with self.console.step("Retention schedule") as step:
            schedule = IntervalSchedule(
                invoke=self._runners[spec.logical_id].invoke,
                interval_s=minutes * 60,
                rule_name=RETENTION_RULE,
                region=get_settings().aws.region,
                on_run=lambda run: self._print_run(spec.logical_id, run),
            ).start()
            self._cleanup.callback(schedule.stop)
            step.detail = f"every {minutes:g} min and now {self.console.arrow} {spec.logical_id}"

    # -- runtime lines ----------------------------------------------------------------------

    def _print_call(self, call: Any) -> None:
        target = call.function or "-"
        self.console.line(
            f"  {self.console.arrow} {call.method} {call.path} {target} {call.status} "
            f"({call.duration_s:.2f} s)"
        )

    def _print_batch(self, function: str, outcome: Any, queue: str = "reload queue") -> None:
        line = (
            f"  {self.console.arrow} {queue}: {outcome.received} message(s) to {function}: "
            f"{outcome.succeeded} done, {len(outcome.failed_ids)} failed"
        )
        if outcome.error:
            line += f" ({outcome.error})"
        self.console.line(line)

    def _print_run(self, function: str, run: Any) -> None:
        result = run.error or _short(run.result)
        self.console.line(
            f"  {self.console.arrow} schedule {run.rule_name}: {function} ran in "
            f"{run.duration_s:.2f} s: {result}"
        )


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _stop_embedded_postgres(data_dir: Path) -> None:
    """Release our handle on the embedded server; pgserver stops it when we were the last."""
    from pgserver.postgres_server import get_server

    try:
        get_server(str(data_dir), cleanup_mode="stop").cleanup()
    except Exception as exc:  # keep stopping the rest; say what is left behind
        print(f"embedded PostgreSQL in {data_dir} did not stop cleanly: {exc!r}", file=sys.stderr)


def dev_token() -> str:
    from agenthub.cli.token import issue_dev_token
    from agenthub.settings import get_settings

    settings = get_settings()
    ttl = min(DEV_TOKEN_TTL_S, settings.auth.max_token_lifetime_s)
    return issue_dev_token(settings, tenant_id=DEMO_TENANT, user_id=DEMO_USER, roles=[], ttl_s=ttl)


def chat_curl(gateway_url: str, token: str) -> str:
    body = json.dumps({"message": DEMO_MESSAGE}, separators=(",", ":"))
    return (
        f"curl -s -X POST {gateway_url}/api/{DEMO_TENANT}/chat "
        f'-H "Authorization: Bearer {token}" -H "Content-Type: application/json" '
        f"-d {shlex.quote(body)}"
    )


def print_ready(
    console: Console, info: StackInfo, state_dir: Path, *, custom_state_dir: bool
) -> None:
    token = dev_token()
    ttl_h = min(DEV_TOKEN_TTL_S, _max_ttl()) / 3600
    console.line("")
    console.line(f"{console.ok} AgentHub is ready")
    console.line(f"  LLM: {info.llm}")
    console.line(f"  API gateway        {info.gateway_url}")
    console.line(f"  Demo business API  {info.api_url}  (docs at {info.api_url}/docs)")
    console.line(
        f"  Local AWS          {info.aws_url}  (SQS agenthub-config-reload, agenthub-ingest + DLQs)"
    )
    console.line(f"  State directory    {state_dir}  (`agenthub dev --reset` wipes it)")
    console.line("")
    console.line(f"Development token ({DEMO_TENANT}/{DEMO_USER}, valid {ttl_h:g} h):")
    console.line(f"  {token}")
    console.line("")
    console.line("Try it:")
    console.line(f"  {chat_curl(info.gateway_url, token)}")
    state = f" --state-dir {shlex.quote(str(state_dir))}" if custom_state_dir else ""
    command = agenthub_command()
    console.line(f"  {command} chat --url {info.gateway_url}{state}")
    if command != "agenthub":
        console.line("  (or, from the repository: make chat; a new token: make token)")
    console.line("")
    console.line("Press Ctrl-C to stop.")


def _warm_up_event(gateway_url: str) -> dict[str, Any]:
    from agenthub.cli.token import issue_dev_token
    from agenthub.local.lambda_runtime import rest_proxy_event
    from agenthub.settings import get_settings

    token = issue_dev_token(
        get_settings(), tenant_id=DEMO_TENANT, user_id=WARM_UP_USER, roles=[], ttl_s=300
    )
    body = json.dumps({"message": DEMO_MESSAGE}).encode()
    return rest_proxy_event(
        resource="/api/{tenant_id}/chat",
        path_parameters={"tenant_id": DEMO_TENANT},
        method="POST",
        path=f"/api/{DEMO_TENANT}/chat",
        query=[],
        headers=[
            ("host", gateway_url.split("://", 1)[-1]),
            ("content-type", "application/json"),
            ("authorization", f"Bearer {token}"),
        ],
        body=body,
        request_id=f"warm-up-{os.getpid()}",
        source_ip="127.0.0.1",
    )


def agenthub_command() -> str:
    """How to run this `agenthub` from any shell, as the banner prints it: the bare name when
    the PATH finds this very script, else its full path (`make run` on a machine without uv
    leaves it in .venv/bin, which is not on the PATH)."""
    import shutil

    script = Path(sys.executable).with_name("agenthub")
    if not script.is_file():
        return "agenthub"
    found = shutil.which("agenthub")
    if found is not None and Path(found).resolve() == script.resolve():
        return "agenthub"
    return shlex.quote(str(script))


def _max_ttl() -> int:
    from agenthub.settings import get_settings

    return get_settings().auth.max_token_lifetime_s


def run(options: DevOptions, console: Console | None = None) -> int:
    """Start the stack, wait for SIGINT/SIGTERM, stop everything. Returns the exit code."""
    from agenthub.settings import get_settings

    console = console or Console()
    ready = threading.Event()
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not ready.is_set():
            raise KeyboardInterrupt  # unwinds start-up; the finally below cleans up
        stop_requested.set()

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, on_signal) for sig in handled}
    stack = DevStack(options, console)
    try:
        try:
            info = stack.start()
            state_dir = Path(get_settings().state_dir).resolve()
            print_ready(console, info, state_dir, custom_state_dir=options.state_dir is not None)
        except AgentHubError as exc:
            print(f"agenthub dev: {exc.message}", file=sys.stderr, flush=True)
            return 2
        except KeyboardInterrupt:
            console.line("interrupted during start-up")
            return 130
        ready.set()
        while not stop_requested.wait(0.5):
            pass
        console.line("stopping ...")
        return 0
    finally:
        for sig in handled:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        stack.stop()
        if ready.is_set():
            console.line(f"{console.ok} stopped")
        for sig, handler in previous.items():
            signal.signal(sig, handler)
