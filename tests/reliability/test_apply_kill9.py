"""kill -9 of `ftops apply` at random moments, then one more apply: zero duplicates, a consistent lock.

The local API runs as its own process with added latency so kills land while calls are in flight. Every
trial uses its own project (unique data, unique job names) on the same server, so duplicates are counted
per trial: exactly 2 uploads and 2 jobs must exist for each, and the lock must name exactly those.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from apply_forked import fork_cli, run_forked, wait_pid, warm_up
from apply_project import (
    PROVIDERS,
    SECRET_KEY,
    WANDB_SECRET,
    ServeProcess,
    admin,
    api_env,
    list_all,
    make_project,
    sha12,
)

TRIALS = int(os.environ.get("FTOPS_KILL9_TRIALS", "30"))
# Together runs the same trials on its routes; fewer by default so CI time stays small (the env var sets both).
TRIALS_BY_PROVIDER = {"mistral": TRIALS, "together": int(os.environ.get("FTOPS_KILL9_TRIALS", "12"))}
WANDB = "  integrations: [{project: support, api_key_env: FTOPS_WANDB_KEY}]\n"


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess(tmp_path_factory.mktemp("api"))
    try:
        yield server
    finally:
        server.stop()


def trial_project(root: Path, tag: str, provider: str = "mistral") -> Path:
    make_project(root, state_a="started", tag=tag, provider=provider)
    manifest = root / "manifests" / "project.yaml"
    # Job A also has a W&B integration: its key must never reach the lock or any output.
    text = manifest.read_text().replace("  state: started\n", "  state: started\n" + WANDB, 1)
    manifest.write_text(text)
    return root


def check_converged(root: Path, url: str, tag: str, provider: str = "mistral") -> None:
    lock = json.loads((root / "ftops.lock").read_text())
    assert lock["intents"] == []
    shas = {sha12(root / "data" / "train.jsonl"), sha12(root / "data" / "valid.jsonl")}
    files = [f for f in list_all(url, "files", provider=provider) if any(s in f["filename"] for s in shas)]
    assert len(files) == 2, f"duplicate uploads: {[f['filename'] for f in files]}"
    jobs = [j for j in list_all(url, "jobs", provider=provider) if (j.get("suffix") or "").endswith(tag)]
    assert len(jobs) == 2, f"duplicate jobs: {[(j['id'], j['suffix']) for j in jobs]}"
    tracked = {r["remote_id"] for r in lock["resources"].values()}
    assert {f["id"] for f in files} | {j["id"] for j in jobs} <= tracked


@pytest.mark.parametrize("provider", PROVIDERS)
def test_kill9_mid_apply_never_duplicates(serve: ServeProcess, tmp_path: Path, provider: str) -> None:
    admin(serve.url, "PUT", "/_ftops/faults", {"latency_ms": 25})
    env = {**api_env(serve.url, provider=provider), "FTOPS_WANDB_KEY": WANDB_SECRET}
    rng = random.Random(int(os.environ.get("FTOPS_KILL9_SEED", "7")))
    warm = trial_project(tmp_path / "warm", f"-warm{provider[0]}", provider)
    warm_up(["-C", str(warm), "apply", "--auto-approve"], env)
    outputs: list[str] = []
    killed = 0
    started = time.monotonic()
    trials = TRIALS_BY_PROVIDER[provider]
    for trial in range(trials):
        tag = f"-k{trial}{provider[0]}"
        root = trial_project(tmp_path / f"t{trial}", tag, provider)
        args = ["-C", str(root), "apply", "--auto-approve"]
        pid = fork_cli(args, env, tmp_path / f"t{trial}.log")
        time.sleep(rng.uniform(0.0, 0.7))
        if os.waitpid(pid, os.WNOHANG)[0] == 0:  # still running: the kill lands mid-apply
            os.kill(pid, signal.SIGKILL)
            killed += 1
            wait_pid(pid, 30)
        outputs.append((tmp_path / f"t{trial}.log").read_text(errors="replace"))
        code, out = run_forked(args, env, tmp_path / f"t{trial}.final.log")
        outputs.append(out)
        assert code == 0, out
        check_converged(root, serve.url, tag, provider)
        outputs.append((root / "ftops.lock").read_text())
        assert time.monotonic() - started < 240, "kill -9 trials are too slow for CI"
    assert killed >= trials // 2, "most kills should land while apply is running"
    for text in outputs:
        assert SECRET_KEY not in text and WANDB_SECRET not in text


BATCH_TRIALS = int(os.environ.get("FTOPS_KILL9_BATCH_TRIALS", "6"))


def test_kill9_between_journal_and_batch_write_recovers_without_duplicates(
    serve: ServeProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock file is written in batches; kill apply after changes were journaled but before the batch
    that holds them was written (interval "never": the kill lands after ≥ 1 journal record), or while batches
    are written after every change (interval 0). The next apply must replay the journal: 0 duplicates."""
    import ftops.state.store as store_module
    from ftops.state.backends.file import journal_path_for
    from ftops.state.lockfile import read_lock, read_lock_file

    admin(serve.url, "PUT", "/_ftops/faults", {"latency_ms": 25})
    env = {**api_env(serve.url), "FTOPS_WANDB_KEY": WANDB_SECRET}
    rng = random.Random(11)
    between = 0
    for trial in range(BATCH_TRIALS):
        never = trial % 2 == 0
        # Forked children inherit this: the apply under test writes the lock file only at open and close.
        monkeypatch.setattr(store_module, "DEFAULT_FLUSH_INTERVAL", 3600.0 if never else 0.0)
        tag = f"-b{trial}"
        root = trial_project(tmp_path / f"b{trial}", tag)
        lock_path, journal = root / "ftops.lock", journal_path_for(root / "ftops.lock")
        args = ["-C", str(root), "apply", "--auto-approve"]
        pid = fork_cli(args, env, tmp_path / f"b{trial}.log")
        want_records = rng.randint(1, 6)
        deadline = time.monotonic() + 20
        finished = False
        while time.monotonic() < deadline and not finished:
            finished = os.waitpid(pid, os.WNOHANG)[0] != 0  # reaped: it ended before enough records
            if journal.exists() and journal.read_bytes().count(b"\n") >= want_records:
                break
            time.sleep(0.002)
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_pid(pid, 30)
        written, state = read_lock_file(lock_path), read_lock(lock_path)
        if never and state is not None and (written is None or written.serial < state.serial):
            between += 1  # the kill landed with changes only in the journal
        monkeypatch.setattr(store_module, "DEFAULT_FLUSH_INTERVAL", 0.5)
        code, out = run_forked(args, env, tmp_path / f"b{trial}.final.log")
        assert code == 0, out
        check_converged(root, serve.url, tag)
        assert not journal.exists()  # folded into the lock file and cleared
        final = read_lock_file(lock_path)
        assert final is not None and state is not None and final.serial >= state.serial
        assert {a for a, r in state.resources.items()} <= set(final.resources)  # nothing journaled was lost
    assert between >= BATCH_TRIALS // 4, "the kills should land between a journal append and the batch write"
