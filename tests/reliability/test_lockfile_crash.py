"""Crash consistency of the state: SIGKILL a writer at random moments; lock + journal must always be whole.

A forked child runs the apply write pattern (begin intent → complete intent with the outcome) thousands of
times through LockStore (each change journaled, the lock file written in batches); the parent kills it with
SIGKILL after a random few milliseconds, ≥ 30 times, while also reading the state (lock file + journal, as
the next run would) as fast as it can. Every mutation stamps the serial it expects to write, so a torn or
mixed state would show up as a stamp that disagrees with the serial.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from ftops.state.lockfile import read_lock, read_lock_file
from ftops.state.model import LockedResource, LockFile
from ftops.state.store import LockStore

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL (POSIX)")

TRIALS = 36
MAX_RUN_SECONDS = 0.03  # random extra run time after the child's first write of a trial
MAX_WAIT_FOR_FIRST_WRITE = 1.0  # per trial; only reached on a badly overloaded machine


def _writer(path: Path) -> None:
    store = LockStore.open(path, endpoint="local", backup=False)
    for intent in store.open_intents():  # a previous writer died between its two writes: resolve first
        stamp = store.lock.serial + 1
        store.complete_intent(intent.id, _resource(stamp))
    for _ in range(10_000):
        intent = store.begin_intent("file.counter", "upload", "fp", {**MARKER, "serial": store.lock.serial + 1})
        store.complete_intent(intent.id, _resource(store.lock.serial + 1))


MARKER = {"filename": "counter.abababababab.jsonl", "sha256": "ab" * 32}


def _resource(stamp: int) -> LockedResource:
    return LockedResource(kind="file", remote_id=f"f-{stamp}", fingerprint="ab" * 32, attributes={"serial": stamp})


def _check(lock: LockFile | None) -> int:
    if lock is None:
        return 0
    stamps = [r.attributes["serial"] for r in lock.resources.values()]
    stamps += [i.marker["serial"] for i in lock.intents]
    assert max(stamps) == lock.serial, "the file mixes two states"
    assert len(lock.intents) <= 1
    return lock.serial


def test_sigkill_during_writes_never_corrupts_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    rng = random.Random(20240611)
    last_serial = reads = trials_with_writes = 0
    for _ in range(TRIALS):
        pid = os.fork()
        if pid == 0:  # child: write until killed
            try:
                _writer(path)
            finally:
                os._exit(0)
        # Kill at a random moment after the child's first write of this trial (so the kill lands on a writer
        # that is really writing), reading the file all along; bounded even on a slow machine.
        start_serial, kill_at = last_serial, None
        give_up = time.monotonic() + MAX_WAIT_FOR_FIRST_WRITE
        while kill_at is None or time.monotonic() < kill_at:
            serial = _check(read_lock(path))  # concurrent readers only ever see whole files
            assert serial >= last_serial
            last_serial = serial
            reads += 1
            if kill_at is None and (serial > start_serial or time.monotonic() > give_up):
                kill_at = time.monotonic() + rng.uniform(0.0, MAX_RUN_SECONDS)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) or os.WEXITSTATUS(status) == 0
        serial = _check(read_lock(path))
        assert serial >= last_serial, "serial went backwards"
        trials_with_writes += serial > start_serial
        last_serial = serial
    assert trials_with_writes >= TRIALS // 2, "the writers rarely got to write: the test would mean little"
    # Temp files of killed writers may remain; the next LockStore.open sweeps them, and folds the journal of
    # the last killed writer into the lock (then deletes it).
    final = read_lock(path)
    LockStore.open(path, endpoint="local", backup=False)
    assert [p.name for p in tmp_path.iterdir() if p.name != ".ftops"] == ["ftops.lock"]
    assert list((tmp_path / ".ftops").iterdir()) == []
    assert read_lock_file(path) == final
