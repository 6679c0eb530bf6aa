"""A signal while `ftops` is still starting (importing) ends it quietly with the conventional code: 130
for Ctrl-C, 143 for SIGTERM, never a Python traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _catches(pid: int, signum: int) -> bool:
    """Whether the process has installed a handler for ``signum`` (Python alone never catches SIGTERM)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(mask & (1 << (signum - 1)))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_signal_during_startup_exits_quietly(tmp_path: Path, signum: int, code: int) -> None:
    # `apply` imports the most (httpx, the planner, the state store), so the signal lands while importing.
    proc = subprocess.Popen([sys.executable, "-m", "ftops", "-C", str(tmp_path), "apply", "--auto-approve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not _catches(proc.pid, signal.SIGTERM) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    os.kill(proc.pid, signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, out + err
    assert "Traceback" not in out + err
