"""Run ``ftops apply`` in a forked child of the test process: no interpreter start-up per trial (~3 s saved),
so dozens of kill -9 trials fit in CI. The child has its own HTTP client; the local API is another process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path


def fork_cli(args: list[str], env: dict[str, str], log: Path) -> int:
    """Start ``ftops ARGS`` in a forked child writing stdout+stderr to ``log``; returns the pid."""
    log.touch()  # exists even when a kill lands before the child got to open it (an overloaded machine)
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:  # child: never return into pytest
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        # pytest replaced sys.stdout/err with capture objects: point Python's streams at the log too.
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        os.environ.clear()
        os.environ.update(env)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from ftops.cli import cli

        try:
            cli.main(args, prog_name="ftops", standalone_mode=True)  # always ends in SystemExit
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def wait_pid(pid: int, timeout: float) -> int:
    """Exit code of the child (negative: killed by that signal); kills it after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def run_forked(args: list[str], env: dict[str, str], log: Path, timeout: float = 60.0) -> tuple[int, str]:
    code = wait_pid(fork_cli(args, env, log), timeout)
    return code, log.read_text(errors="replace")


def warm_up(args: list[str], env: dict[str, str]) -> None:
    """One in-process run, so forked children inherit loaded modules and tokenizers (each trial ~1 s)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from ftops.cli import cli

        with contextlib.suppress(SystemExit):
            cli.main(args, prog_name="ftops", standalone_mode=False)
    finally:
        os.environ.clear()
        os.environ.update(saved)
