"""LockStore: each change journaled durably before it returns, the lock written in batches, serial bumps,
intents lifecycle, thread safety, replay after a crash, backups, and the new move/put_many/token counts."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ftops.errors import StateError
from ftops.state.backends.file import FileBackend, journal_path_for
from ftops.state.lockfile import backup_path_for, dump_lock, read_lock, read_lock_file
from ftops.state.model import LockedResource
from ftops.state.store import LockStore

JOB_MARKER = {"want": {"model": "open-mistral-7b"}}
FILE_MARKER = {"filename": "w.abababababab.jsonl", "sha256": "ab" * 32}
SLOW = 3600.0  # a flush interval no test reaches: canonical writes happen only on flush()/close()


def _file(remote_id: str = "f-1") -> LockedResource:
    return LockedResource(kind="file", remote_id=remote_id, fingerprint="ab" * 32)


def _job(remote_id: str = "j-1") -> LockedResource:
    return LockedResource(kind="job", remote_id=remote_id, fingerprint="fp", status="RUNNING")


def _state(path: Path) -> dict[str, object]:
    lock = read_lock(path)  # what the next run would start from: lock file + journal
    assert lock is not None
    return {"serial": lock.serial, "resources": sorted(lock.resources), "intents": [i.id for i in lock.intents]}


def test_first_change_is_durable_at_once_and_the_lock_is_written_on_close(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local", flush_interval=SLOW)
    assert not store.exists and store.lock.serial == 0
    lineage = store.lock.lineage
    store.put("file.train", _file())
    assert store.exists
    assert not path.exists() and journal_path_for(path).exists()  # in the journal, not yet in a batch
    lock = read_lock(path)
    assert lock is not None and (lock.serial, lock.endpoint, lock.lineage) == (1, "local", lineage)
    store.close()
    written = read_lock_file(path)
    assert written is not None and written.resources["file.train"].remote_id == "f-1" and written.serial == 1
    assert not journal_path_for(path).exists()  # everything is in the lock: the journal is gone
    with pytest.raises(StateError, match="closed"):
        store.put("file.other", _file())


def test_every_change_bumps_serial_and_noops_record_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    with LockStore.open(path, endpoint="local", flush_interval=SLOW) as store:
        store.put("file.a", _file())
        store.put("file.a", _file())  # identical: nothing recorded
        assert store.lock.serial == 1
        store.put("file.a", _file("f-2"))
        store.remove("file.a")
        store.remove("file.a")  # absent: nothing recorded
        store.mark_plan_applied("p1")
        store.mark_plan_applied("p1")
        assert len(FileBackend(path).read_journal()) == 4
        assert _state(path) == {"serial": 4, "resources": [], "intents": []}
    assert read_lock_file(path).applied_plans == ["p1"]  # type: ignore[union-attr]
    lineage = read_lock_file(path).lineage  # type: ignore[union-attr]
    assert LockStore.open(path, endpoint="local").lock.lineage == lineage  # lineage never changes


def test_intent_is_durable_before_the_call_and_completion_is_one_record(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local", flush_interval=SLOW)
    intent = store.begin_intent("file.train", "upload", "ab" * 32, {**FILE_MARKER, "filename": "train.ab.jsonl"})
    # What a crash right now would leave: the intent, durable in the journal, with its search marker.
    on_disk = read_lock(path)
    assert on_disk is not None and on_disk.serial == 1
    assert [(i.id, i.address, i.action, i.marker["filename"]) for i in on_disk.intents] == [
        (intent.id, "file.train", "upload", "train.ab.jsonl")
    ]
    assert [i.id for i in store.open_intents()] == [intent.id]
    store.complete_intent(intent.id, _file())
    assert _state(path) == {"serial": 2, "resources": ["file.train"], "intents": []}
    records = [json.loads(line) for line in FileBackend(path).read_journal()]
    assert [r["change"]["op"] for r in records] == ["begin", "complete"]
    assert all(len(line) < 1000 for line in FileBackend(path).read_journal())  # small: only what changed


def test_abandon_and_complete_without_resource(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local")
    a = store.begin_intent("job.a", "create", "fp", JOB_MARKER)
    b = store.begin_intent("job.b", "create", "fp", JOB_MARKER)
    store.abandon_intent(a.id)
    store.complete_intent(b.id, None)
    assert _state(path) == {"serial": 4, "resources": [], "intents": []}
    with pytest.raises(StateError, match="no open intent"):
        store.abandon_intent(a.id)


def test_an_intent_recovery_could_not_resolve_is_refused(tmp_path: Path) -> None:
    store = LockStore.open(tmp_path / "ftops.lock", endpoint="local")
    with pytest.raises(StateError, match="lacks sha256"):
        store.begin_intent("file.a", "upload", "fp", {"filename": "a.jsonl"})
    with pytest.raises(StateError, match="lacks spec"):
        store.begin_intent("job.a", "create", "fp", {})
    assert not journal_path_for(tmp_path / "ftops.lock").exists()


def test_complete_intent_rejects_wrong_kind_and_records_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local")
    intent = store.begin_intent("job.a", "create", "fp", JOB_MARKER)
    journal = journal_path_for(path).read_bytes()
    with pytest.raises(StateError):
        store.complete_intent(intent.id, _file())
    assert journal_path_for(path).read_bytes() == journal
    assert [i.id for i in store.open_intents()] == [intent.id]


def test_read_only_view_cannot_change_the_store(tmp_path: Path) -> None:
    store = LockStore.open(tmp_path / "ftops.lock", endpoint="local")
    store.put("file.a", _file())
    view = store.lock
    view.resources.clear()
    view.serial = 99
    assert store.lock.serial == 1 and "file.a" in store.lock.resources
    with pytest.raises(ValueError):
        store.lock.resources["file.a"].remote_id = "other"  # type: ignore[misc]  # shared, hence immutable


def test_parallel_changes_are_serialised(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local", flush_interval=0.0)  # batches as often as possible

    def worker(n: int) -> None:
        for i in range(10):
            intent = store.begin_intent(f"file.w{n}-{i}", "upload", "fp", FILE_MARKER)
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
    store.close()
    assert read_lock_file(path) == lock


def test_open_replays_the_journal_of_an_interrupted_run(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    with LockStore.open(path, endpoint="local") as store:
        store.put("file.a", _file())
    crashed = LockStore.open(path, endpoint="local", flush_interval=SLOW)
    intent = crashed.begin_intent("job.b", "create", "fp", JOB_MARKER)
    crashed.put("file.c", _file("f-3"))
    # ... killed here: never flushed nor closed. Another torn half-record is at the end of the journal.
    with journal_path_for(path).open("a") as fh:
        fh.write('{"v":1,"lineage":')
    assert read_lock_file(path).serial == 1  # type: ignore[union-attr]
    reopened = LockStore.open(path, endpoint="local")
    assert [i.id for i in reopened.open_intents()] == [intent.id]
    assert sorted(reopened.lock.resources) == ["file.a", "file.c"] and reopened.lock.serial == 3
    # Folded into the lock at once: the journal is gone and the lock file holds everything.
    assert not journal_path_for(path).exists() and read_lock_file(path).serial == 3  # type: ignore[union-attr]


def test_journal_of_another_lock_or_with_a_gap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    with LockStore.open(path, endpoint="local") as store:
        store.put("file.a", _file())
    good = path.read_bytes()
    crashed = LockStore.open(path, endpoint="local", flush_interval=SLOW)
    crashed.put("file.b", _file())
    crashed.put("file.c", _file())
    crashed.flush()
    crashed.put("file.d", _file())  # serial 4, only in the journal
    path.write_bytes(good)  # an older lock restored while a run was interrupted: serial 1, journal says 4
    records = FileBackend(path).read_journal()
    journal_path_for(path).write_text(records[-1] + "\n")
    with pytest.raises(StateError, match="continues serial 3"):
        LockStore.open(path, endpoint="local")
    other = json.loads(records[-1])
    other["lineage"] = "00000000-0000-4000-8000-000000000000"
    journal_path_for(path).write_text(json.dumps(other) + "\n")
    with pytest.raises(StateError, match="another lock file"):
        read_lock(path)
    assert path.read_bytes() == good


def test_move_put_many_and_token_counts(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    with LockStore.open(path, endpoint="local") as store:
        store.put_many({"file.a": _file("f-a"), "job.j": _job()})
        store.put_many({"file.a": _file("f-a"), "job.j": _job()})  # unchanged: nothing recorded
        assert store.lock.serial == 1
        store.move("file.a", "file.renamed")
        with pytest.raises(StateError, match="not tracked"):
            store.move("file.a", "file.x")
        with pytest.raises(StateError, match="keeps its kind"):
            store.move("file.renamed", "job.j")
        with pytest.raises(StateError, match="keeps its kind"):
            store.move("file.renamed", "job.k")
        store.record_token_counts({"ab" * 32 + "/open-mistral-7b": 1234})
        store.record_token_counts({"ab" * 32 + "/open-mistral-7b": 1234})
        assert store.lock.serial == 3
    lock = read_lock_file(path)
    assert lock is not None
    assert sorted(lock.resources) == ["file.renamed", "job.j"] and lock.resources["file.renamed"].remote_id == "f-a"
    assert lock.token_counts == {"ab" * 32 + "/open-mistral-7b": 1234}


def test_secrets_are_checked_on_the_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "0123456789abcdef0123456789abcdef01234567"
    monkeypatch.setenv("WANDB_API_KEY", secret)
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local")
    leaky = LockedResource(kind="job", remote_id="j", fingerprint="fp", attributes={"wandb": secret})
    with pytest.raises(StateError, match="secret-looking") as err:
        store.put("job.a", leaky)
    assert secret not in err.value.render()
    assert not journal_path_for(path).exists() and store.lock.serial == 0


def test_open_checks_endpoint_and_backs_up_before_the_first_change(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    with LockStore.open(path, endpoint="local") as store:
        store.put("file.a", _file())
    before = path.read_bytes()
    with pytest.raises(StateError, match="belongs to the embedded local API"):
        LockStore.open(path, endpoint="https://api.mistral.ai")
    with LockStore.open(path, endpoint="local") as store:
        assert not backup_path_for(path).exists()  # opening changes nothing, so it backs up nothing
        store.put("file.b", _file())
    assert backup_path_for(path).read_bytes() == before  # the lock before this run's first change


def test_backup_is_never_overwritten_with_an_unrecovered_state(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    with LockStore.open(path, endpoint="local") as store:
        store.put("file.a", _file())
    with LockStore.open(path, endpoint="local") as store:
        store.put("file.b", _file())
    good_backup = backup_path_for(path).read_bytes()
    crashed = LockStore.open(path, endpoint="local", flush_interval=SLOW)
    intent = crashed.begin_intent("job.c", "create", "fp", JOB_MARKER)  # killed after this
    assert backup_path_for(path).read_bytes() != good_backup  # that run backed up the clean state first
    good_backup = backup_path_for(path).read_bytes()
    # The next run starts from an interrupted state: it recovers, and the backup stays the clean one,
    # through this run and the next one that also dies before finishing recovery.
    for _ in range(2):
        recovering = LockStore.open(path, endpoint="local", flush_interval=SLOW)
        recovering.put("file.d", _file())
        assert backup_path_for(path).read_bytes() == good_backup
    with LockStore.open(path, endpoint="local") as store:
        store.abandon_intent(intent.id)  # recovery done
    with LockStore.open(path, endpoint="local") as store:
        store.put("file.e", _file())  # a clean run: now the recovered state is the backup
    recovered = read_lock_file(backup_path_for(path))
    assert recovered is not None and recovered.intents == [] and "file.d" in recovered.resources


def test_open_removes_temp_files_of_dead_writers(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    dead = tmp_path / ".ftops.lock.999999999.deadbeef.tmp"
    dead.write_text("{", encoding="utf-8")
    LockStore.open(path, endpoint="local")
    assert not dead.exists()


def test_every_kind_of_change_replays_to_the_same_state(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    store = LockStore.open(path, endpoint="local", flush_interval=SLOW)
    a = store.begin_intent("file.a", "upload", "ab" * 32, FILE_MARKER)
    b = store.begin_intent("job.b", "create", "fp", JOB_MARKER)
    c = store.begin_intent("job.c", "create", "fp", JOB_MARKER)
    store.complete_intent(a.id, _file("f-a"))
    store.complete_intent(b.id, _job("j-b"))
    store.abandon_intent(c.id)
    store.put_many({"file.x": _file("f-x"), "file.y": _file("f-y")})
    store.remove("file.y")
    store.move("file.x", "file.z")
    store.mark_plan_applied("plan-1")
    store.record_token_counts({"cd" * 32 + "/tok": 7})
    assert not path.exists()  # all of it only in the journal
    replayed = read_lock(path)
    assert replayed is not None and dump_lock(replayed) == dump_lock(store.lock)
    assert replayed.serial == 11
