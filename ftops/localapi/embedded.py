"""The embedded local API: a real HTTP server on 127.0.0.1 in a daemon thread, for commands and tests.

``start_embedded`` binds a free port itself (no race between choosing and binding), starts uvicorn in a
thread, waits until ``/_ftops/health`` answers and returns a handle with ``url`` (host root, no ``/v1``),
``api_key`` and ``stop()``; it is also a context manager.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from ftops.errors import ConfigError
from ftops.localapi.config import ServerConfig
from ftops.localapi.defaults import DEFAULT_API_KEY, default_speed

_START_TIMEOUT = 20.0


class EmbeddedServer:
    def __init__(self, server: Any, thread: threading.Thread, url: str, api_key: str, app: Any) -> None:
        self._server = server
        self._thread = thread
        self.url = url
        self.api_key = api_key
        self.app = app

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self.app.context.store.close()

    def __enter__(self) -> EmbeddedServer:
        return self

    def __exit__(self, *_: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmbeddedServer(url={self.url!r})"


def serve_config(config: ServerConfig, host: str = "127.0.0.1", port: int = 0) -> tuple[Any, socket.socket]:
    """A uvicorn server for ``config`` and the socket it will serve on (bound here)."""
    import uvicorn

    from ftops.localapi.app import create_app

    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the listening socket
    # says TCP; with proto 0, Nagle + delayed ACK add ~40 ms to every response (headers and body are two writes).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # queue connections from now on: callers are told the URL before uvicorn starts serving
    app = create_app(config)
    uv_config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30)
    return uvicorn.Server(uv_config), sock


def start_embedded(
    state_dir: Path,
    *,
    api_key: str = DEFAULT_API_KEY,
    speed: float | None = None,
    **options: Any,
) -> EmbeddedServer:
    """Start a local API on a free loopback port; ``options`` are extra ``ServerConfig`` fields (clock, faults)."""
    config = ServerConfig(state_dir=Path(state_dir), api_key=api_key,
                          speed=speed if speed is not None else default_speed(), **options)
    server, sock = serve_config(config)
    host, port = sock.getsockname()[:2]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="ftops-localapi", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise ConfigError("the embedded local API did not start", where=str(state_dir),
                              hint="check that the state directory is writable")
        time.sleep(0.01)
    return EmbeddedServer(server, thread, f"http://{host}:{port}", api_key, server.config.app)
