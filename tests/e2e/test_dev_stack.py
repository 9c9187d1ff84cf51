"""`agenthub dev` as a user runs it: a subprocess, its curl, the queue, Ctrl-C, a restart."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0  # generous: the machine may be busy; a healthy start takes ~10 s
STOP_TIMEOUT_S = 30.0
READY = r"^Press Ctrl-C to stop"  # the ready banner's last line
# Anything that would make the stack use outside services or a real LLM.
_OUTSIDE = (
    "DATABASE_URL",
    "REDIS_URL",
    "AWS_ENDPOINT_URL",
    "CHROMA_URL",
    "OPENAI_API_KEY",
    "OPENROUTER_API_KEY",
    "AGENTHUB_BEDROCK_MODEL",
)


def _dev_token(state_dir: Path, *, role: str) -> str:
    """A development token from the stack's own key pair, as `agenthub token` prints it."""
    from agenthub.auth.devkeys import ensure_dev_key_pair, mint_token
    from agenthub.settings import AuthSettings

    keys = ensure_dev_key_pair(state_dir)
    auth = AuthSettings()
    return mint_token(
        private_key_pem=keys.private_pem,
        kid=keys.kid,
        tenant_id="acme",
        user_id="root",
        roles=(role,),
        issuer=auth.issuer,
        audience=auth.audience,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("agenthub")
    if script.is_file():
        return [str(script), *args]
    return [
        sys.executable,
        "-c",
        "import sys; from agenthub.cli import main; sys.exit(main())",
        *args,
    ]


def _environment() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AGENTHUB_") and name not in _OUTSIDE
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


class DevProcess:
    """`agenthub dev` in its own session, its stdout collected line by line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            _command("dev", *args),
            cwd=REPO_ROOT,
            env=_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match[str]:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for line in self.lines:
                    if found := regex.search(line):
                        return found
                remaining = deadline - time.monotonic()
                finished = self.process.poll() is not None and not self._reader.is_alive()
                if remaining <= 0 or finished:
                    raise AssertionError(f"no line matching {pattern!r}; output:\n{self.output}")
                self._changed.wait(min(remaining, 0.5))

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def interrupt(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """Ctrl-C, as a terminal sends it to the program; the exit code."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout_s)
        self._reader.join(5)
        return code

    def exit_code(self, timeout_s: float = 60) -> int:
        code = self.process.wait(timeout_s)
        self._reader.join(5)
        return code

    def close(self) -> None:
        """Kill what is left (the whole session) and release the pipe."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _postmaster_pid(state_dir: Path) -> int | None:
    pid_file = state_dir / "postgres" / "postmaster.pid"
    try:
        return int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while (alive := [pid for pid in pids if not _gone(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _parse_curl(line: str) -> tuple[str, dict[str, str], str]:
    """(url, headers, body) of the printed curl command."""
    words = shlex.split(line)
    assert words[:4] == ["curl", "-s", "-X", "POST"], line
    url = words[4]
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    body = words[words.index("-d") + 1]
    return url, headers, body


@pytest.fixture
def ports() -> dict[str, int]:
    return {"port": _free_port(), "api": _free_port(), "aws": _free_port()}


@pytest.fixture
def stack_args(tmp_path: Path, ports: dict[str, int]) -> list[str]:
    return [
        "--state-dir",
        str(tmp_path / "state"),
        "--port",
        str(ports["port"]),
        "--api-port",
        str(ports["api"]),
        "--aws-port",
        str(ports["aws"]),
    ]


@pytest.fixture
def started() -> Iterator[list[DevProcess]]:
    """Every stack a test starts; killed (with its PostgreSQL) if the test left it running."""
    processes: list[DevProcess] = []
    yield processes
    for dev in processes:
        dev.close()


def test_dev_serves_the_demo_consumes_the_queue_stops_cleanly_and_restarts(
    tmp_path: Path, ports: dict[str, int], stack_args: list[str], started: list[DevProcess]
) -> None:
    state_dir = tmp_path / "state"
    # GIVEN the stack, started as `make run` starts it
    dev = DevProcess(*stack_args)
    started.append(dev)
    dev.wait_for(READY, START_TIMEOUT_S)
    output = dev.output
    for component in ("Local AWS (moto server)", "PostgreSQL (embedded)", "Redis (embedded)"):
        assert re.search(rf"✓ {re.escape(component)}.* \.\.\. \d+\.\d s", output), output
    assert "LLM: offline deterministic model (set OPENAI_API_KEY" in output

    # WHEN the printed curl is run THEN the Debt agent answers from the ERP
    url, headers, body = _parse_curl(dev.wait_for(r"^\s*(curl .*)$", 1).group(1))
    assert url == f"http://127.0.0.1:{ports['port']}/api/acme/chat"
    answer = httpx.post(url, headers=headers, content=body, timeout=60)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["agent"], answer.json()["format"]) == ("debt", "card")
    session_id = answer.json()["session_id"]
    # ... and streamed, the same turn arrives as events (what `curl -N .../chat/stream` shows)
    with httpx.stream("POST", f"{url}/stream", headers=headers, content=body, timeout=60) as sse:
        assert sse.headers["content-type"].startswith("text/event-stream")
        kinds = [line.removeprefix("event: ") for line in sse.iter_lines() if line[:6] == "event:"]
    assert kinds[0] == "routing" and kinds[-2:] == ["answer", "done"], kinds
    assert {"tool_start", "tool_end", "token"} <= set(kinds), kinds

    # WHEN an admin turns the Shipment agent off through the local gateway
    admin = {"Authorization": f"Bearer {_dev_token(state_dir, role='platform_admin')}"}
    permissions_url = f"http://127.0.0.1:{ports['port']}/api/admin/tenants/acme/permissions"
    current = httpx.get(permissions_url, headers=admin, timeout=30)
    assert current.status_code == 200, current.text
    changed = httpx.patch(
        permissions_url,
        headers={**admin, "If-Match": f'"{current.json()["version"]}"'},
        json={"agents": {"shipment": False}},
        timeout=30,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["reload"] == "queued"
    # THEN the reload message goes through the local queue to config_reload
    dev.wait_for(r"reload queue: 1 message\(s\) to ConfigReloadFunction: 1 done", 20)
    sqs = boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{ports['aws']}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    queue_url = sqs.get_queue_url(QueueName="agenthub-config-reload")["QueueUrl"]
    counts = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert counts == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }
    sqs.close()
    # ... and the next chat of acme no longer reaches the Shipment agent
    shipment = httpx.post(
        url, headers=headers, json={"message": "track shipment SHP-1001"}, timeout=60
    )
    assert shipment.status_code == 200, shipment.text
    assert shipment.json()["agent"] == "supervisor"

    # WHEN Ctrl-C THEN it exits 0 and leaves no process behind (children nor PostgreSQL)
    children = [p.pid for p in dev.descendants()]
    assert children, "expected the embedded Redis server as a child process"
    postmaster = _postmaster_pid(state_dir)
    assert postmaster is not None and not _gone(postmaster)
    assert dev.interrupt() == 0, dev.output
    assert _wait_gone([*children, postmaster], 10) == []
    assert "stopped" in dev.output.splitlines()[-1]

    # WHEN it starts again on the same state directory THEN the conversation is still there
    again = DevProcess(*stack_args)
    started.append(again)
    again.wait_for(READY, START_TIMEOUT_S)
    url, headers, _ = _parse_curl(again.wait_for(r"^\s*(curl .*)$", 1).group(1))
    follow_up = httpx.post(
        url,
        headers=headers,
        json={"message": "Debt for MST 0123456789", "session_id": session_id},
        timeout=60,
    )
    assert follow_up.status_code == 200, follow_up.text
    assert follow_up.json()["session_id"] == session_id
    assert again.interrupt() == 0, again.output


def test_a_port_in_use_is_named_with_what_to_do(
    stack_args: list[str], ports: dict[str, int], started: list[DevProcess]
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports["port"]))
        holder.listen()
        dev = DevProcess(*stack_args)
        started.append(dev)
        code = dev.exit_code()

    assert code == 2, dev.output
    assert f"port {ports['port']} (API gateway) is already in use" in dev.output
    assert "--port" in dev.output
    assert "AgentHub is ready" not in dev.output


def test_no_embedded_says_which_urls_are_missing(
    stack_args: list[str], started: list[DevProcess]
) -> None:
    dev = DevProcess(*stack_args, "--no-embedded")
    started.append(dev)
    code = dev.exit_code()

    assert code == 2, dev.output
    assert "--no-embedded needs DATABASE_URL, REDIS_URL, AWS_ENDPOINT_URL set" in dev.output
