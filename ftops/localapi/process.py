"""The embedded local API in a child process, for CLI commands run from a fresh interpreter.

Started as ``python -m ftops.localapi.process STATE_DIR``, the child binds a free loopback port, serves the
same FastAPI app as ``start_embedded`` and says ``ready PORT`` (or ``failed MESSAGE``) on its stdout. It
stops when its stdin closes: when the command stops it, and when the command dies, even by kill -9, since
the kernel closes the pipe. It runs in a session of its own, so a Ctrl-C meant for ``ftops apply`` (which
finishes its step and records it) does not take the API away under it.

Why a process rather than a thread: the command can start it first and go on importing and loading the
manifests while the child imports FastAPI on the other core; the server's work no longer competes for the
command's GIL. A process that has FastAPI loaded already (the tests) keeps the cheaper thread.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from ftops.errors import ConfigError

_START_TIMEOUT = 30.0
LOG_NAME = "server.log"


class LocalApiProcess:
    """The parent's handle: ``url`` once ready, ``api_key``, ``stop()``; a context manager."""

    def __init__(self, proc: subprocess.Popen[bytes], state_dir: Path, api_key: str) -> None:
        self._proc = proc
        self._state_dir = state_dir
        self.api_key = api_key
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The host root (no ``/v1``); waits until the child serves."""
        if self._url is None:
            self._url = self._wait_ready()
        return self._url

    def _wait_ready(self) -> str:
        out = self._proc.stdout
        assert out is not None
        deadline = time.monotonic() + _START_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                self.stop(timeout=1.0)
                raise self._failed("did not start within 30 s")
            chunk = os.read(out.fileno(), 256)
            if not chunk:
                break  # the child exited
            line += chunk
        word, _, rest = line.decode("utf-8", "replace").strip().partition(" ")
        if word == "ready" and rest.isdigit():
            return f"http://127.0.0.1:{rest}"
        self.stop(timeout=5.0)
        raise self._failed(rest if word == "failed" else self._log_tail())

    def _failed(self, why: str) -> ConfigError:
        return ConfigError(f"the embedded local API did not start: {why}", where=str(self._state_dir),
                           hint="check that the state directory is writable, or set FTOPS_ENDPOINT to a remote API")

    def _log_tail(self) -> str:
        try:
            lines = (self._state_dir / LOG_NAME).read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return lines[-1] if lines else f"the server process exited with status {self._proc.poll()}"

    def stop(self, timeout: float | None = None) -> None:
        """Close the child's stdin, its signal to finish the requests in flight and exit.

        The command does not wait for that (the server's shutdown and the interpreter's exit cost a few tenths
        of a second) unless given a ``timeout``; then the child is killed if it has not exited in time.
        """
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        if timeout is None:
            return
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> LocalApiProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop(timeout=10.0)

    def __repr__(self) -> str:
        return f"LocalApiProcess(pid={self._proc.pid}, state_dir={str(self._state_dir)!r})"


def spawn_local_api(state_dir: Path, api_key: str) -> LocalApiProcess:
    """Start the child now; it is ready when ``url`` is first read. ``state_dir`` must exist."""
    env = {**os.environ, "FTOPS_LOCAL_API_KEY": api_key}  # the key never goes on a command line (ps shows those)
    with open(state_dir / LOG_NAME, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "ftops.localapi.process", str(state_dir)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                                start_new_session=True, close_fds=True)
    return LocalApiProcess(proc, state_dir, api_key)


def _serve(state_dir: Path, announce: IO[str]) -> int:
    from ftops.localapi.config import ServerConfig
    from ftops.localapi.defaults import default_api_key, default_speed
    from ftops.localapi.embedded import serve_config

    try:
        config = ServerConfig(state_dir=state_dir, api_key=default_api_key(), speed=default_speed())
        server, sock = serve_config(config)
    except Exception as exc:  # the parent shows it as a ConfigError naming the state directory
        announce.write(f"failed {exc}\n")
        announce.flush()
        return 1
    port = sock.getsockname()[1]

    def announce_when_started() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.005)
        if server.started:
            announce.write(f"ready {port}\n")
            announce.flush()

    def stop_when_the_parent_is_gone() -> None:
        while sys.stdin.buffer.read(4096):
            pass  # nothing is ever sent: EOF (the parent closed the pipe or died) is the signal
        server.should_exit = True

    threading.Thread(target=announce_when_started, daemon=True).start()
    threading.Thread(target=stop_when_the_parent_is_gone, daemon=True).start()
    server.run(sockets=[sock])
    context = getattr(server.config.app, "context", None)
    if context is not None:
        context.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(_serve(Path(sys.argv[1]), sys.stdout))
