"""Crash consistency of ftops.lock: SIGKILL a writer at random moments; the file must always be whole.

A forked child runs the apply write pattern (begin intent → complete intent with the outcome) thousands of
times through LockStore; the parent kills it with SIGKILL after a random few milliseconds, ≥ 30 times, while
also reading the file as fast as it can during each run. Every mutation stamps the serial it expects to
write, so a torn or mixed file would show up as a stamp that disagrees with the serial.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from ftops.state.lockfile import read_lock
from ftops.state.model import LockedResource, LockFile
from ftops.state.store import LockStore

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL (POSIX)")

TRIALS = 36
MAX_RUN_SECONDS = 0.05


def _writer(path: Path) -> None:
    store = LockStore.open(path, endpoint="local", backup=False)
    for intent in store.open_intents():  # a previous writer died between its two writes: resolve first
        stamp = store.lock.serial + 1
        store.complete_intent(intent.id, _resource(stamp))
    for _ in range(10_000):
        intent = store.begin_intent("file.counter", "upload", "fp", {"serial": store.lock.serial + 1})
        store.complete_intent(intent.id, _resource(store.lock.serial + 1))


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
    last_serial = 0
    reads = 0
    for _ in range(TRIALS):
        pid = os.fork()
        if pid == 0:  # child: write until killed
            try:
                _writer(path)
            finally:
                os._exit(0)
        deadline = time.monotonic() + rng.uniform(0.002, MAX_RUN_SECONDS)
        while time.monotonic() < deadline:
            serial = _check(read_lock(path))  # concurrent readers only ever see whole files
            assert serial >= last_serial
            last_serial = serial
            reads += 1
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) or os.WEXITSTATUS(status) == 0
        serial = _check(read_lock(path))
        assert serial >= last_serial, "serial went backwards"
        last_serial = serial
    assert last_serial > TRIALS, "the writers made too little progress for the test to mean anything"
    assert reads > TRIALS
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "ftops.lock"]
    # Temp files of killed writers may remain; the next LockStore.open sweeps them.
    LockStore.open(path, endpoint="local", backup=False)
    assert [p.name for p in tmp_path.iterdir() if p.name != "ftops.lock"] == [], leftovers
