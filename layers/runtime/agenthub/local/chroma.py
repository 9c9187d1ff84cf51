"""A real Chroma server for the local stack and the tests: `chroma run` from the installed
`chromadb` package (the dev dependency), in a data directory, on a loopback port.

`CHROMA_URL` makes it step aside (the caller checks). The server has no authentication: it
listens on loopback only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from agenthub.errors import ConfigurationError


def chroma_executable() -> str:
    """`chroma` next to this interpreter (the project's virtualenv), or on the PATH."""
    beside = Path(sys.executable).with_name("chroma")
    if beside.exists():
        return str(beside)
    found = shutil.which("chroma")
    if found is None:
        raise ConfigurationError(
            "no `chroma` command: install the dev dependencies (uv sync) or set CHROMA_URL"
        )
    return found


class EmbeddedChroma:
    def __init__(self, data_dir: Path, *, port: int, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, *, timeout_s: float = 90.0) -> str:
        self.spawn()
        return self.wait_ready(timeout_s=timeout_s)

    def spawn(self) -> None:
        """Start the process without waiting (it takes seconds: overlap it with other work)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "chroma.log").open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - our own executable, fixed arguments
            [
                chroma_executable(),
                "run",
                "--path",
                str(self.data_dir / "data"),
                "--host",
                self.host,
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

    def wait_ready(self, *, timeout_s: float = 90.0) -> str:
        """Wait for the heartbeat; the URL."""
        if self._process is None:
            raise ConfigurationError("Chroma was not started")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ConfigurationError(
                    f"Chroma exited with {self._process.returncode}; see {self.data_dir}/chroma.log"
                )
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise ConfigurationError(f"Chroma did not answer on {self.url} within {timeout_s:.0f} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
