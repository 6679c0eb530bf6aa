"""Two machines, one project: separate clones (own working tree, own ``.ftops/``) share a remote backend and an API.

Concurrent applies: exactly one proceeds, the other says who holds the lock; afterwards nothing is duplicated
and the state on the backend names exactly what the API has. Then kill -9 of apply on the postgres backend,
many times, followed by a normal apply: the state stays readable and nothing is ever created twice.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import BUCKET, PostgresServer, S3Server, s3_env

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))

from apply_forked import fork_cli, run_forked, wait_pid, warm_up
from apply_project import SECRET_KEY, ServeProcess, admin, api_env, list_all, make_project, sha12

from ftops.settings import load_settings
from ftops.state.backends.config import read_state
from ftops.state.model import LockFile

KILL_TRIALS = int(os.environ.get("FTOPS_PG_KILL9_TRIALS", "30"))


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess(tmp_path_factory.mktemp("api"))
    try:
        yield server
    finally:
        server.stop()


def backend_toml(kind: str, name: str) -> str:
    if kind == "postgres":
        return f'[backend]\ntype = "postgres"\nurl_env = "FTOPS_PG_URL"\nname = "{name}"\n'
    return f'[backend]\ntype = "s3"\nbucket = "{BUCKET}"\nkey = "{name}/ftops.lock"\n'


def clone(root: Path, kind: str, name: str, tag: str) -> Path:
    """One "machine": its own copy of the repository (same manifests, same data) and its own .ftops/."""
    make_project(root, tag=tag)
    (root / "ftops.toml").write_text(backend_toml(kind, name))
    return root


def backend_env(kind: str, url: str, pg: PostgresServer | None, s3: S3Server | None) -> dict[str, str]:
    env = api_env(url)
    if kind == "postgres":
        assert pg is not None
        env["FTOPS_PG_URL"] = pg.url
    else:
        assert s3 is not None
        env.update(s3_env(s3))
    return env


def remote_state(root: Path, env: dict[str, str]) -> LockFile | None:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = load_settings(root)
        return read_state(settings.backend, settings.lock_path)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def assert_no_duplicates(root: Path, url: str, tag: str, lock: LockFile | None) -> None:
    assert lock is not None and lock.intents == []
    shas = {sha12(root / "data" / "train.jsonl"), sha12(root / "data" / "valid.jsonl")}
    files = [f for f in list_all(url, "files") if any(s in f["filename"] for s in shas)]
    assert len(files) == 2, f"duplicate uploads: {[f['filename'] for f in files]}"
    jobs = [j for j in list_all(url, "jobs") if (j.get("suffix") or "").endswith(tag)]
    assert len(jobs) == 2, f"duplicate jobs: {[(j['id'], j['suffix']) for j in jobs]}"
    tracked = {r.remote_id for r in lock.resources.values()}
    assert {f["id"] for f in files} | {j["id"] for j in jobs} <= tracked


@pytest.fixture(params=["postgres", "s3"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_two_clones_apply_at_once_exactly_one_proceeds(
    kind: str, serve: ServeProcess, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pg = request.getfixturevalue("pg_server") if kind == "postgres" else None
    s3 = request.getfixturevalue("s3_server") if kind == "s3" else None
    name, tag = f"two-{uuid.uuid4().hex[:8]}", f"-tm{kind[:2]}"
    machines = [clone(tmp_path / m, kind, name, tag) for m in ("laptop", "ci-runner")]
    env = backend_env(kind, serve.url, pg, s3)
    admin(serve.url, "PUT", "/_ftops/faults", {"latency_ms": 300})  # apply takes seconds: the runs overlap
    try:
        procs = [subprocess.Popen([sys.executable, "-m", "ftops", "-C", str(m), "apply", "--auto-approve"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for m in machines]
        outs = [p.communicate(timeout=120)[0] for p in procs]
    finally:
        admin(serve.url, "PUT", "/_ftops/faults", {"latency_ms": 0})
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 1], outs
    loser = outs[codes.index(1)]
    assert "another ftops run holds the run lock" in loser and "running `apply` since" in loser, loser
    assert "ftops force-unlock" in loser
    for m in machines:
        assert not (m / "ftops.lock").exists()  # the state lives on the backend, not in either clone
    # The loser runs again once the winner is done: nothing left to do, nothing created twice.
    again = subprocess.run([sys.executable, "-m", "ftops", "-C", str(machines[codes.index(1)]), "apply",
                            "--auto-approve"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    lock = remote_state(machines[0], env)
    assert_no_duplicates(machines[0], serve.url, tag, lock)
    plan = subprocess.run([sys.executable, "-m", "ftops", "-C", str(machines[1]), "plan", "--detailed-exitcode"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert plan.returncode == 0, plan.stdout + plan.stderr  # both clones see one state that matches the API
    for text in [*outs, again.stdout, again.stderr, plan.stdout]:
        assert SECRET_KEY not in text and "ftops-test-pw" not in text


@pytest.mark.skipif(os.name != "posix", reason="uses fork and kill -9")
def test_kill9_of_apply_on_postgres_never_duplicates(
    pg_server: PostgresServer, serve: ServeProcess, tmp_path: Path
) -> None:
    env = backend_env("postgres", serve.url, pg_server, None)
    admin(serve.url, "PUT", "/_ftops/faults", {"latency_ms": 25})
    rng = random.Random(int(os.environ.get("FTOPS_KILL9_SEED", "11")))
    run = uuid.uuid4().hex[:6]
    warm = clone(tmp_path / "warm", "postgres", f"warm-{run}", f"-w{run}")
    warm_up(["-C", str(warm), "apply", "--auto-approve"], env)
    # Calibrate the kill window on this machine: one full forked apply (fast CI boxes finish in well under 1 s).
    calib = clone(tmp_path / "calib", "postgres", f"calib-{run}", "-pkc")
    t0 = time.monotonic()
    code, out = run_forked(["-C", str(calib), "apply", "--auto-approve"], env, tmp_path / "calib.log")
    assert code == 0, out
    window = max(0.9 * (time.monotonic() - t0), 0.1)
    killed = 0
    started = time.monotonic()
    try:
        for trial in range(KILL_TRIALS):
            tag = f"-pk{trial}"  # job suffixes are at most 18 characters: keep tags short
            root = clone(tmp_path / f"t{trial}", "postgres", f"kill-{run}-{trial}", tag)
            args = ["-C", str(root), "apply", "--auto-approve"]
            pid = fork_cli(args, env, tmp_path / f"t{trial}.log")
            time.sleep(rng.uniform(0.0, window))
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                os.kill(pid, signal.SIGKILL)
                killed += 1
                wait_pid(pid, 30)
            code, out = run_forked(args, env, tmp_path / f"t{trial}.final.log")
            assert code == 0, out
            assert SECRET_KEY not in out and "ftops-test-pw" not in out
            assert_no_duplicates(root, serve.url, tag, remote_state(root, env))
    finally:
        admin(serve.url, "PUT", "/_ftops/faults", {"latency_ms": 0})
    assert killed >= KILL_TRIALS // 2, f"only {killed} of {KILL_TRIALS} kills landed mid-apply"
    print(f"{KILL_TRIALS} kill -9 trials on postgres, {killed} mid-apply (window {window:.2f} s), "
          f"{time.monotonic() - started:.1f} s")
