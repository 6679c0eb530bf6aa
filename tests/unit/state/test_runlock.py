"""The run lock: one winner across processes, a clear holder message, id-checked force-unlock, leases."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from ftops.cli import state_cmds
from ftops.errors import RunLockHeld, StateError
from ftops.state.runlock import RunLock, acquire, ci_run_id, force_unlock, read_run_lock

posix_only = pytest.mark.skipif(os.name != "posix", reason="uses fork and POSIX pids")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


def _write_lock(state_dir: Path, *, host: str, pid: int, lease_expires_at: str) -> str:
    state_dir.mkdir(parents=True, exist_ok=True)
    lock_id = "11111111-2222-4333-8444-555555555555"
    data = {
        "id": lock_id,
        "operation": "apply",
        "owner": {"user": "ci", "host": host, "pid": pid, "ci_run": None},
        "created_at": "2024-01-01T00:00:00Z",
        "lease_expires_at": lease_expires_at,
    }
    (state_dir / "apply.lock").write_text(json.dumps(data), encoding="utf-8")
    return lock_id


def test_acquire_writes_owner_and_release_removes(tmp_path: Path) -> None:
    held = acquire(tmp_path / ".ftops", "apply", lease_seconds=60)
    data = json.loads((tmp_path / ".ftops" / "apply.lock").read_text(encoding="utf-8"))
    assert data["id"] == held.id and data["operation"] == "apply"
    assert data["owner"]["pid"] == os.getpid() and data["owner"]["host"] == socket.gethostname()
    assert data["created_at"].endswith("Z") and data["lease_expires_at"] > data["created_at"]
    assert held.release() is True
    assert read_run_lock(tmp_path / ".ftops") is None
    assert held.release() is False


def test_second_acquirer_is_told_who_holds_it(tmp_path: Path) -> None:
    held = acquire(tmp_path, "apply")
    with pytest.raises(RunLockHeld) as err:
        acquire(tmp_path, "apply")
    text = err.value.render()
    assert f"pid {os.getpid()}" in text and socket.gethostname() in text
    assert held.id in text and f"ftops force-unlock {held.id}" in text
    assert "lease until" in text and "since" in text
    held.release()


def _contender(state_dir: str, barrier: Any, results: Any, done: Any) -> None:
    barrier.wait(timeout=20)
    try:
        held = acquire(Path(state_dir), "apply", notify=lambda _: None)
        results.put(("won", os.getpid(), held.id))
        done.wait(timeout=20)  # keep holding until the parent has seen both outcomes
    except RunLockHeld as exc:
        results.put(("held", os.getpid(), exc.render()))


@posix_only
@pytest.mark.parametrize("stale_lock_first", [False, True], ids=["free", "dead-holder"])
def test_two_processes_exactly_one_wins(tmp_path: Path, stale_lock_first: bool) -> None:
    if stale_lock_first:  # both race to take over the same dead holder: still exactly one winner
        _write_lock(tmp_path, host=socket.gethostname(), pid=_dead_pid(), lease_expires_at="2024-01-01T00:10:00Z")
    ctx = mp.get_context("fork")
    barrier, results, done = ctx.Barrier(2), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_contender, args=(str(tmp_path), barrier, results, done)) for _ in range(2)]
    for p in procs:
        p.start()
    try:
        outcomes = sorted([results.get(timeout=20), results.get(timeout=20)])
    finally:
        done.set()
        for p in procs:
            p.join(timeout=20)
    (held_kind, _, message), (won_kind, winner_pid, winner_id) = outcomes
    assert (held_kind, won_kind) == ("held", "won")
    assert f"pid {winner_pid}" in message and winner_id in message


def test_force_unlock_needs_the_exact_id(tmp_path: Path) -> None:
    held = acquire(tmp_path, "apply")
    before = (tmp_path / "apply.lock").read_bytes()
    with pytest.raises(StateError) as err:
        force_unlock(tmp_path, "not-the-id")
    assert held.id in err.value.render()
    assert (tmp_path / "apply.lock").read_bytes() == before
    removed = force_unlock(tmp_path, held.id)
    assert removed.id == held.id and read_run_lock(tmp_path) is None
    with pytest.raises(StateError, match="no run lock"):
        force_unlock(tmp_path, held.id)


@posix_only
def test_dead_local_holder_is_taken_over(tmp_path: Path) -> None:
    old_id = _write_lock(tmp_path, host=socket.gethostname(), pid=_dead_pid(), lease_expires_at="2024-01-01T00:10:00Z")
    notes: list[str] = []
    held = acquire(tmp_path, "apply", notify=notes.append)
    assert held.took_over is not None and held.took_over.id == old_id
    assert len(notes) == 1 and old_id in notes[0] and "no longer running" in notes[0]
    assert read_run_lock(tmp_path).id == held.id  # type: ignore[union-attr]
    held.release()


@posix_only
def test_a_run_killed_while_releasing_does_not_block_the_next_one(tmp_path: Path) -> None:
    # Killed inside release(): the lock and its takeover guard stay behind, both naming a dead process.
    dead = _dead_pid()
    _write_lock(tmp_path, host=socket.gethostname(), pid=dead, lease_expires_at="2099-01-01T00:00:00Z")
    (tmp_path / "apply.lock.takeover").write_text(f"{socket.gethostname()} {dead}", encoding="utf-8")
    started = time.monotonic()
    held = acquire(tmp_path, "apply", notify=lambda _: None)
    assert time.monotonic() - started < 2.0  # not the 5 s of contention, nor the guard's 30 s age limit
    assert read_run_lock(tmp_path).id == held.id  # type: ignore[union-attr]
    assert not (tmp_path / "apply.lock.takeover").exists()
    held.release()


def test_live_local_holder_is_never_taken_over_even_when_expired(tmp_path: Path) -> None:
    _write_lock(tmp_path, host=socket.gethostname(), pid=os.getppid(), lease_expires_at="2024-01-01T00:10:00Z")
    with pytest.raises(RunLockHeld, match="lease has expired"):
        acquire(tmp_path, "apply")


def test_other_host_expired_lease_needs_a_human(tmp_path: Path) -> None:
    lock_id = _write_lock(tmp_path, host="ci-runner-42", pid=12345, lease_expires_at="2024-01-01T00:10:00Z")
    with pytest.raises(RunLockHeld) as err:
        acquire(tmp_path, "apply")
    assert "ci@ci-runner-42 pid 12345" in err.value.message and "lease has expired" in err.value.message
    assert f"ftops force-unlock {lock_id}" in (err.value.hint or "")


def test_renew_extends_the_lease_and_fails_once_lock_is_gone(tmp_path: Path) -> None:
    held = acquire(tmp_path, "apply", lease_seconds=1)
    first = held.info.lease_expires_at
    held.renew(lease_seconds=3600)
    on_disk = read_run_lock(tmp_path)
    assert on_disk is not None and on_disk.lease_expires_at > first and on_disk.id == held.id
    force_unlock(tmp_path, held.id)
    with pytest.raises(StateError, match="lost the run lock"):
        held.renew()
    with pytest.raises(StateError):
        held.check()


def test_hold_heartbeats_and_releases(tmp_path: Path) -> None:
    with RunLock.hold(tmp_path, "apply", lease_seconds=60, renew_every=0.02) as held:
        assert read_run_lock(tmp_path).id == held.id  # type: ignore[union-attr]
        held.check()
        force_unlock(tmp_path, held.id)
        deadline = time.monotonic() + 5
        while held._lost is None and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(StateError, match="lost the run lock"):
            held.check()
    with RunLock.hold(tmp_path, "apply") as again:
        pass
    assert read_run_lock(tmp_path) is None and again.id


def test_unreadable_run_lock_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ftops.state.runlock._READ_RETRIES", 2)
    (tmp_path / "apply.lock").write_text("{", encoding="utf-8")
    with pytest.raises(StateError, match="unreadable"):
        acquire(tmp_path, "apply")


def test_a_run_killed_while_creating_the_run_lock_leaves_nothing_to_trip_over(tmp_path: Path) -> None:
    # Killed after the lock's file exists but before its content does (the old O_EXCL-then-write order left
    # an empty apply.lock that every later run reported as unreadable).
    script = ("import os, signal, sys\nfrom pathlib import Path\nimport ftops.state.runlock as r\n"
              "r.dump_info = lambda info: os.kill(os.getpid(), signal.SIGKILL)\n"
              "r.acquire(Path(sys.argv[1]), 'apply')\n")
    killed = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "apply.lock").exists()
    with RunLock.hold(tmp_path, "apply") as held:
        assert read_run_lock(tmp_path).id == held.id  # type: ignore[union-attr]
    assert not list(tmp_path.glob(".apply.lock.*.tmp"))  # the dead writer's temp file was cleaned up


def test_ci_run_id() -> None:
    gh = {
        "GITHUB_RUN_ID": "77",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/ft",
    }
    assert ci_run_id(gh) == "https://github.com/acme/ft/actions/runs/77/attempts/2"
    assert ci_run_id({"CI_JOB_ID": "9"}) == "GitLab job 9"
    assert ci_run_id({}) is None


def _root() -> click.Group:
    from ftops.cli import cli

    if "force-unlock" not in cli.commands:  # until the lead registers ftops.cli.state_cmds
        state_cmds.register(cli)
    return cli


def test_force_unlock_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    held = acquire(tmp_path / ".ftops", "apply")
    wrong = CliRunner().invoke(_root(), ["force-unlock", "nope"])
    assert wrong.exit_code == 1
    assert f"the run lock id is {held.id}, not nope" in wrong.output and "Traceback" not in wrong.output
    result = CliRunner().invoke(_root(), ["force-unlock", held.id])
    assert result.exit_code == 0, result.output
    assert held.id in result.output and f"pid {os.getpid()}" in result.output
    assert read_run_lock(tmp_path / ".ftops") is None
