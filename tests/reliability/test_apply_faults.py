"""Injected faults (429 + Retry-After, 5xx, responses dropped after the write committed, latency) and
concurrent applies, against a local API subprocess: apply converges with zero duplicates, retries honour
Retry-After, a second concurrent apply fails fast naming the holder, and no key shows up anywhere: neither
the API key nor a W&B key (set through the variable the manifest names) appears in any output, the lock, a
saved plan, or the JSON of ``status``, ``models`` and ``jobs``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from apply_forked import run_forked, warm_up
from apply_project import (
    PROVIDERS,
    SECRET_KEY,
    WANDB_SECRET,
    ServeProcess,
    add_wandb,
    admin,
    api_env,
    list_all,
    make_project,
    sha12,
)

POSTS = ["/v1/files", "/v1/fine_tuning/jobs"]
POSTS_BY_PROVIDER = {"mistral": POSTS, "together": ["/together/v1/files", "/together/v1/fine-tunes"]}


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess(tmp_path_factory.mktemp("api"))
    warm = make_project(tmp_path_factory.mktemp("warm"), tag="-warm")
    warm_up(["-C", str(warm), "apply", "--auto-approve"], api_env(server.url))
    try:
        yield server
    finally:
        server.stop()


def converged(root: Path, url: str, tag: str, provider: str = "mistral") -> dict[str, object]:
    lock = json.loads((root / "ftops.lock").read_text())
    assert lock["intents"] == []
    shas = {sha12(root / "data" / "train.jsonl"), sha12(root / "data" / "valid.jsonl")}
    files = [f for f in list_all(url, "files", provider=provider) if any(s in f["filename"] for s in shas)]
    jobs = [j for j in list_all(url, "jobs", provider=provider) if (j.get("suffix") or "").endswith(tag)]
    assert len(files) == 2 and len(jobs) == 2, (files, jobs)
    assert {r["remote_id"] for r in lock["resources"].values()} == {f["id"] for f in files} | {j["id"] for j in jobs}
    return dict(lock)


def no_secrets(*texts: str) -> bool:
    return not any(SECRET_KEY in t or WANDB_SECRET in t for t in texts)


def save_plan_without_secrets(root: Path, env: dict[str, str], log: Path) -> None:
    """``ftops plan -o`` before the apply: the saved job create names the W&B variable, never its value."""
    code, out = run_forked(["-C", str(root), "plan", "-o", "saved-plan.json"], env, log)
    assert code == 0, out
    saved = (root / "saved-plan.json").read_text()
    assert "FTOPS_WANDB_KEY" in saved  # the integration is in the plan, by variable name
    assert no_secrets(out, saved)


def assert_views_without_secrets(root: Path, url: str, log: Path, provider: str = "mistral") -> None:
    """The lock and the JSON views of the converged project hold neither key."""
    outputs = [(root / "ftops.lock").read_text()]
    for args in (["status", "--format", "json"], ["models", "--format", "json"], ["jobs", "--format", "json"]):
        code, out = run_forked(["-C", str(root), *args], api_env(url, wandb=True, provider=provider), log)
        assert code == 0, out
        outputs.append(out)
    assert "job.support-a" in outputs[1] and no_secrets(*outputs)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("name", "faults"),
    [
        ("5xx", {"rate_5xx": 1.0, "budget": 3, "methods": ["POST"], "paths": "POSTS"}),
        ("drop", {"rate_drop": 1.0, "budget": 3, "methods": ["POST"], "paths": "POSTS"}),
        ("mixed", {"rate_5xx": 0.2, "rate_drop": 0.2, "rate_429": 0.2, "retry_after": 0, "latency_ms": 20,
                   "seed": 3}),
    ],
)
def test_apply_converges_under_faults(serve: ServeProcess, tmp_path: Path, name: str, faults: dict[str, object],
                                      provider: str) -> None:
    tag = f"-f{name}{provider[0]}"
    faults = {**faults, "paths": POSTS_BY_PROVIDER[provider]} if "paths" in faults else faults
    root = add_wandb(make_project(tmp_path / "p", tag=tag, provider=provider))
    env = api_env(serve.url, wandb=True, provider=provider)
    outputs: list[str] = []
    save_plan_without_secrets(root, env, tmp_path / "log")
    admin(serve.url, "PUT", "/_ftops/faults", faults)
    try:
        code, out = run_forked(["-C", str(root), "apply", "--auto-approve"], env, tmp_path / "log")
        outputs.append(out)
        for _ in range(3):  # a fault budget may outlast one run's adoption attempts: a re-run must converge
            if code == 0:
                break
            code, out = run_forked(["-C", str(root), "apply", "--auto-approve"], env, tmp_path / "log")
            outputs.append(out)
    finally:
        admin(serve.url, "PUT", "/_ftops/faults", {})
    assert code == 0, out
    assert "Traceback" not in out and no_secrets(*outputs)
    converged(root, serve.url, tag, provider)
    assert_views_without_secrets(root, serve.url, tmp_path / "log", provider)
    if name == "drop" and provider == "mistral":
        assert "adopted" in out  # the lost answers were resolved by search, not by a second POST


def test_together_dropped_creates_are_adopted_not_resent(serve: ServeProcess, tmp_path: Path) -> None:
    """Together assigns job ids: a create whose answer is lost is found by suffix + full spec, never re-sent."""
    root = make_project(tmp_path / "p", tag="-tdrop", provider="together")
    env = api_env(serve.url, provider="together")
    admin(serve.url, "PUT", "/_ftops/faults", {"rate_drop": 1.0, "budget": 2, "methods": ["POST"],
                                              "paths": ["/together/v1/fine-tunes"]})
    try:
        code, out = run_forked(["-C", str(root), "apply", "--auto-approve"], env, tmp_path / "log")
    finally:
        admin(serve.url, "PUT", "/_ftops/faults", {})
    assert code == 0, out
    assert out.count("adopted after") == 2, out
    converged(root, serve.url, "-tdrop", "together")


def test_429_retries_honour_retry_after(serve: ServeProcess, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", tag="-r429")
    admin(serve.url, "PUT", "/_ftops/faults",
          {"rate_429": 1.0, "retry_after": 1, "budget": 2, "methods": ["POST"], "paths": POSTS})
    try:
        started = time.monotonic()
        code, out = run_forked(["-C", str(root), "apply", "--auto-approve", "--parallelism", "1"],
                               api_env(serve.url), tmp_path / "log")
        elapsed = time.monotonic() - started
    finally:
        admin(serve.url, "PUT", "/_ftops/faults", {})
    assert code == 0, out
    assert elapsed >= 2.0, f"two 429s with Retry-After: 1 must cost at least 2 s, took {elapsed:.2f}"
    converged(root, serve.url, "-r429")


def test_concurrent_applies_one_wins_the_other_names_the_holder(serve: ServeProcess, tmp_path: Path) -> None:
    root = add_wandb(make_project(tmp_path / "p", tag="-conc"))
    admin(serve.url, "PUT", "/_ftops/faults", {"latency_ms": 400})
    cmd = [sys.executable, "-m", "ftops", "-C", str(root), "apply", "--auto-approve"]
    try:
        procs = [subprocess.Popen(cmd, env=api_env(serve.url, wandb=True), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        admin(serve.url, "PUT", "/_ftops/faults", {})
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1], results
    loser = next(err for p, (_, err) in zip(procs, results, strict=True) if p.returncode == 1)
    assert "holds the run lock" in loser and "pid" in loser and "force-unlock" in loser
    assert "Traceback" not in loser
    assert no_secrets(*(out + err for out, err in results))
    converged(root, serve.url, "-conc")
    assert not (root / ".ftops" / "apply.lock").exists()
    assert_views_without_secrets(root, serve.url, tmp_path / "log")
