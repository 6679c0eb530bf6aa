"""Ctrl-C (SIGINT) or SIGTERM in the middle of `ftops apply`: calls in flight finish and are recorded, nothing new is
issued, the run exits 130 (143 for SIGTERM) saying what was done and what is left, and the next apply converges.

`ftops apply --auto-approve` runs as a real subprocess against an embedded local API that adds latency to
every request, on a project with 3 files and 6 jobs, so the signal lands while calls are in flight. A W&B
key is set through the environment variable the manifest names; neither it nor the API key may show up in
the output or the lock file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from apply_project import (
    SECRET_KEY,
    WANDB_SECRET,
    add_jobs,
    add_wandb,
    admin,
    api_env,
    list_all,
    make_project,
)

from ftops.localapi.embedded import EmbeddedServer, start_embedded

LATENCY_MS = 250
DEADLINE_S = 20.0


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    with start_embedded(tmp_path / "api", api_key=SECRET_KEY, speed=1000.0) as srv:
        yield srv


def _exists(url: str, kind: str, remote_id: str) -> bool:
    path = {"file": f"/v1/files/{remote_id}", "job": f"/v1/fine_tuning/jobs/{remote_id}"}[kind]
    response = httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {SECRET_KEY}"}, timeout=10.0)
    return response.status_code == 200


def _wait_for(log: Path, needle: str, proc: subprocess.Popen[bytes], deadline: float) -> str:
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if needle in text or proc.poll() is not None:
            return text
        time.sleep(0.02)
    return log.read_text(errors="replace")


@pytest.mark.parametrize(
    ("signum", "expected_code", "notice"),
    [
        (signal.SIGINT, 130, "Interrupt received: finishing the calls in flight"),
        # What CI systems send on cancel: handled the same way, with its own conventional exit code.
        (signal.SIGTERM, 143, "Termination signal received: finishing the calls in flight"),
    ],
    ids=["SIGINT", "SIGTERM"],
)
def test_signal_finishes_in_flight_calls_records_them_and_exits_conventionally(
    tmp_path: Path, server: EmbeddedServer, signum: int, expected_code: int, notice: str
) -> None:
    started = time.monotonic()
    url = server.url
    root = add_jobs(add_wandb(make_project(tmp_path / "proj", state_a="started")), 4)
    env = {**api_env(url, wandb=True), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "apply.log"
    admin(url, "PUT", "/_ftops/faults", {"latency_ms": LATENCY_MS})
    try:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ftops", "-C", str(root), "apply", "--auto-approve", "--parallelism", "2"],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )
            try:
                # The first finished change proves execution began; more are in flight or still to come.
                before = _wait_for(log, "  ✓ ", proc, started + DEADLINE_S)
                assert proc.poll() is None, f"apply ended before it could be interrupted:\n{before}"
                os.kill(proc.pid, signum)
                code = proc.wait(timeout=max(1.0, started + DEADLINE_S - time.monotonic()))
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(10)
    finally:
        admin(url, "PUT", "/_ftops/faults", {})
    output = log.read_text(errors="replace")
    assert code == expected_code, output
    assert notice in output
    assert not (root / ".ftops" / "apply.lock").exists(), "the run lock is released"
    summary = next(line for line in output.splitlines() if line.startswith("Interrupted: "))
    assert " done, " in summary and " not done (" in summary and "run ftops apply again" in summary
    assert "Traceback" not in output and SECRET_KEY not in output and WANDB_SECRET not in output

    # The lock is complete: it parses, every in-flight call was recorded (no open intent), and every
    # resource it names exists on the API.
    lock_text = (root / "ftops.lock").read_text()
    assert SECRET_KEY not in lock_text and WANDB_SECRET not in lock_text
    lock = json.loads(lock_text)
    assert lock["intents"] == [], lock["intents"]
    assert lock["resources"], "at least the first finished change is recorded"
    for address, resource in lock["resources"].items():
        assert _exists(url, resource["kind"], resource["remote_id"]), address
    left = summary.split(" not done (", 1)[1].split(")", 1)[0].split(", ")
    assert left and left != ["none"], summary

    final = subprocess.run([sys.executable, "-m", "ftops", "-C", str(root), "apply", "--auto-approve"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "adopted" not in final.stdout  # nothing was left half-done for recovery to settle
    assert SECRET_KEY not in final.stdout + final.stderr and WANDB_SECRET not in final.stdout + final.stderr
    lock = json.loads((root / "ftops.lock").read_text())
    assert lock["intents"] == []
    files, jobs = list_all(url, "files"), list_all(url, "jobs")
    assert len(files) == 3, [f["filename"] for f in files]
    assert len(jobs) == 6, [j["suffix"] for j in jobs]
    assert {r["remote_id"] for r in lock["resources"].values()} == {f["id"] for f in files} | {j["id"] for j in jobs}
    assert any(j["status"] not in ("QUEUED", "VALIDATING", "VALIDATED") for j in jobs)  # job A was started
    assert time.monotonic() - started < 60
