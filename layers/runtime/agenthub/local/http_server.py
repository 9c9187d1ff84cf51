"""An ASGI app served by uvicorn on a loopback port, in a background thread."""

from __future__ import annotations

import errno
import socket
import threading
import time
from typing import Any

from agenthub.errors import ConfigurationError


class PortInUseError(ConfigurationError):
    """A port the local stack needs is taken."""

    def __init__(self, port: int, what: str, hint: str = "") -> None:
        self.port = port
        message = f"port {port} ({what}) is already in use"
        super().__init__(f"{message}: {hint}" if hint else message)


def bind_socket(host: str, port: int, what: str, hint: str = "") -> socket.socket:
    """A listening-ready socket bound to (host, port); PortInUseError when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(port, what, hint) from None
        raise
    return sock


class ServerThread:
    """uvicorn in a thread; we bind the socket first, so the port is known and errors are clear."""

    def __init__(self, app: Any, *, host: str, port: int, name: str, hint: str = "") -> None:
        self.app = app
        self.host = host
        self.name = name
        self._hint = hint
        self._requested_port = port
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> ServerThread:
        import uvicorn

        sock = bind_socket(self.host, self._requested_port, self.name, self._hint)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_config=None,  # keep the process's logging (JSON) configuration
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=self.name, daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise ConfigurationError(f"{self.name} did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout_s)
        self._server = None
        self._thread = None
