"""LockStore: one atomic write per mutation, serial bumps, intents lifecycle, thread safety, backups."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ftops.errors import StateError
from ftops.state.lockfile import dump_lock, read_lock
from ftops.state.model import LockedResource
from ftops.state.store import LockStore


def _file(remote_id: str = "f-1") -> LockedResource:
    return LockedResource(kind="file", remote_id=remote_id, fingerprint="ab" * 32)


def _on_disk(path: Path) -> dict[str, object]:
    lock = read_lock(path)
    assert lock is not None
    return {"serial": lock.serial, "resources": sorted(lock.resources), "intents": [i.id for i in lock.intents]}


def test_first_write_creates_the_lock_with_endpoint(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local")
    assert not store.exists and store.lock.serial == 0
    lineage = store.lock.lineage
    store.put("file.train", _file())
    lock = read_lock(path)
    assert lock is not None
    assert (lock.serial, lock.endpoint, lock.lineage) == (1, "local", lineage)
    assert lock.resources["file.train"].remote_id == "f-1"


def test_every_mutation_bumps_serial_and_noops_write_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local")
    store.put("file.a", _file())
    store.put("file.a", _file())  # identical: no write
    assert store.lock.serial == 1
    store.put("file.a", _file("f-2"))
    store.remove("file.a")
    store.remove("file.a")  # absent: no write
    store.mark_plan_applied("p1")
    store.mark_plan_applied("p1")
    assert _on_disk(path) == {"serial": 4, "resources": [], "intents": []}
    assert read_lock(path).applied_plans == ["p1"]  # type: ignore[union-attr]
    lineage = store.lock.lineage
    assert LockStore.open(path, endpoint="local").lock.lineage == lineage  # lineage never changes


def test_intent_is_on_disk_before_the_call_and_completion_is_one_write(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local")
    intent = store.begin_intent("file.train", "upload", "ab" * 32, {"filename": "train.abababababab.jsonl"})
    # What a crash right now would leave: the intent, durable, with its search marker.
    on_disk = read_lock(path)
    assert on_disk is not None and on_disk.serial == 1
    assert [(i.id, i.address, i.action, i.marker["filename"]) for i in on_disk.intents] == [
        (intent.id, "file.train", "upload", "train.abababababab.jsonl")
    ]
    assert [i.id for i in store.open_intents()] == [intent.id]
    store.complete_intent(intent.id, _file())
    assert _on_disk(path) == {"serial": 2, "resources": ["file.train"], "intents": []}


def test_abandon_and_complete_without_resource(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local")
    a = store.begin_intent("job.a", "create", "fp")
    b = store.begin_intent("job.b", "create", "fp")
    store.abandon_intent(a.id)
    store.complete_intent(b.id, None)
    assert _on_disk(path) == {"serial": 4, "resources": [], "intents": []}
    with pytest.raises(StateError, match="no open intent"):
        store.abandon_intent(a.id)


def test_complete_intent_rejects_wrong_kind_and_keeps_file(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local")
    intent = store.begin_intent("job.a", "create", "fp")
    before = path.read_bytes()
    with pytest.raises(StateError):
        store.complete_intent(intent.id, _file())
    assert path.read_bytes() == before
    assert [i.id for i in store.open_intents()] == [intent.id]


def test_read_only_view_cannot_change_the_store(tmp_path: Path) -> None:
    store = LockStore.open(tmp_path / "ftops.lock", endpoint="local")
    store.put("file.a", _file())
    view = store.lock
    view.resources.clear()
    view.serial = 99
    assert store.lock.serial == 1 and "file.a" in store.lock.resources


def test_parallel_mutations_are_serialised(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local")

    def worker(n: int) -> None:
        for i in range(10):
            intent = store.begin_intent(f"file.w{n}-{i}", "upload", "fp")
            store.complete_intent(intent.id, _file(f"f-{n}-{i}"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    lock = read_lock(path)
    assert lock is not None
    assert lock.serial == 80 and len(lock.resources) == 40 and lock.intents == []
    assert dump_lock(lock) == dump_lock(store.lock)


def test_open_checks_endpoint_and_keeps_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    LockStore.open(path, endpoint="local").put("file.a", _file())
    before = path.read_bytes()
    with pytest.raises(StateError, match="belongs to the embedded local API"):
        LockStore.open(path, endpoint="https://api.mistral.ai")
    LockStore.open(path, endpoint="local")
    assert (tmp_path / ".ftops" / "ftops.lock.backup").read_bytes() == before


def test_open_removes_temp_files_of_dead_writers(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    dead = tmp_path / ".ftops.lock.999999999.deadbeef.tmp"
    dead.write_text("{", encoding="utf-8")
    LockStore.open(path, endpoint="local")
    assert not dead.exists()
