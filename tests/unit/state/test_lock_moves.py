"""Moving an address in the lock: the store's move and the model records that follow a moved job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftops.errors import StateError
from ftops.state.model import LockedResource
from ftops.state.moves import followers
from ftops.state.store import LockStore


def _store(tmp_path: Path) -> LockStore:
    store = LockStore.open(tmp_path / "ftops.lock", endpoint="local")
    store.put("job.old", LockedResource(kind="job", remote_id="J1", fingerprint="fp"))
    store.put("model.m", LockedResource(kind="model", remote_id="ft:1", fingerprint="job.old",
                                        attributes={"job": "job.old", "name": "M"}))
    return store


def test_move_renames_the_entry_and_models_follow_in_one_write(tmp_path: Path) -> None:
    store = _store(tmp_path)
    serial = store.lock.serial
    follow = followers(store.lock, "job.old", "job.new")
    assert set(follow) == {"model.m"} and follow["model.m"].attributes == {"job": "job.new", "name": "M"}
    store.move("job.old", "job.new")
    store.close()
    data = json.loads((tmp_path / "ftops.lock").read_text())
    assert set(data["resources"]) == {"job.new", "model.m"} and data["serial"] == serial + 1
    assert data["resources"]["model.m"]["fingerprint"] == "job.new"
    assert followers(store.lock, "model.m", "model.n") == {}  # only a job has followers


@pytest.mark.parametrize(("old", "new", "message"), [
    ("job.old", "file.x", "keeps its kind"),
    ("job.nope", "job.x", "is not tracked"),
    ("model.m", "model.m2", None),
])
def test_move_refusals_write_nothing(tmp_path: Path, old: str, new: str, message: str | None) -> None:
    store = _store(tmp_path)
    store.put("model.m2", LockedResource(kind="model", remote_id="ft:2", fingerprint="job.x"))
    before = (tmp_path / "ftops.lock").read_text()
    with pytest.raises(StateError, match=message or "already tracked"):
        store.move(old, new)
    assert (tmp_path / "ftops.lock").read_text() == before
