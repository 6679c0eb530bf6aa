"""State survives a restart and a kill -9 of a real ``ftops serve`` process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from localapi_kit import chat_lines

KEY = "persist-key"


@contextmanager
def serve(state: Path) -> Iterator[tuple[subprocess.Popen[str], httpx.Client]]:
    env = {**os.environ, "FTOPS_LOCAL_API_KEY": KEY, "FTOPS_LOCAL_SPEED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ftops", "serve", "--port", "0", "--state-dir", str(state)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the command names the URL on its first line
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert match, first
        assert KEY not in first
        client = httpx.Client(base_url=match.group(0), headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.get("/_ftops/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.05)
        yield proc, client
        client.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def test_state_survives_restart_and_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with serve(state) as (proc, http):
        file_id = http.post("/v1/files", files={"file": ("keep.jsonl", chat_lines(4))}).json()["id"]
        job = http.post("/v1/fine_tuning/jobs", json={
            "model": "open-mistral-7b", "hyperparameters": {"training_steps": 2},
            "training_files": [{"file_id": file_id}], "suffix": "keep"}).json()
        http.post("/_ftops/clock/advance", json={"seconds": 30})
        assert http.get(f"/v1/fine_tuning/jobs/{job['id']}").json()["status"] == "VALIDATED"
        started = http.post(f"/v1/fine_tuning/jobs/{job['id']}/start")
        assert started.status_code == 200
        os.kill(proc.pid, signal.SIGKILL)  # no shutdown hook runs
        proc.wait(10)

    with serve(state) as (proc, http):
        assert http.get(f"/v1/files/{file_id}").json()["filename"] == "keep.jsonl"
        assert http.get(f"/v1/files/{file_id}/content").content == chat_lines(4)
        got = http.get(f"/v1/fine_tuning/jobs/{job['id']}").json()
        # The start committed before the kill (STARTED lasts a moment before RUNNING); the clock offset survived.
        assert got["status"] in ("STARTED", "RUNNING")
        http.post("/_ftops/clock/advance", json={"seconds": 10_000})
        done = http.get(f"/v1/fine_tuning/jobs/{job['id']}").json()
        assert done["status"] == "SUCCESS" and done["fine_tuned_model"]
        proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
        assert proc.wait(15) == 0

    with serve(state) as (_proc, http):
        assert http.get("/v1/fine_tuning/jobs").json()["total"] == 1
        assert http.get(f"/v1/models/{done['fine_tuned_model']}").status_code == 200
