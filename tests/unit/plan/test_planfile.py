"""Saved plan files: deterministic, atomic, secret-free, single-use, and bound to lock, manifests, endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftops.errors import PlanFileError
from ftops.plan.model import Action, Change, Plan
from ftops.plan.planfile import check_plan_applicable, dump_plan, load_plan, save_plan
from ftops.state.lockfile import read_lock
from ftops.state.model import LockedResource, LockFile
from ftops.state.store import LockStore

DIGEST = "sha256:" + "d" * 64


def _plan(lock: LockFile | None, **kw: object) -> Plan:
    fields: dict[str, object] = {
        "id": "8c0f3e52-0000-4000-8000-00000000000a",
        "created_at": 1_700_000_000.0,
        "endpoint": "local",
        "lock_lineage": lock.lineage if lock else None,
        "lock_serial": lock.serial if lock else 0,
        "manifest_digest": DIGEST,
        "changes": [
            Change(address="file.train", kind="file", action=Action.UPLOAD, after={"path": "data/train.jsonl"}),
            Change(address="job.ft", kind="job", action=Action.CREATE, depends_on=["file.train"]),
        ],
    }
    fields.update(kw)
    return Plan.model_validate(fields)


def _apply(store: LockStore, plan: Plan) -> None:
    """What apply does with a saved plan's bookkeeping: check, record the outcome, mark it used."""
    check_plan_applicable(plan, store.lock if store.exists else None, DIGEST, "local")
    store.put("file.train", LockedResource(kind="file", remote_id="f-new", fingerprint="ab" * 32))
    store.mark_plan_applied(plan.id)


def test_save_and_load_round_trip_deterministic(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    plan = _plan(None)
    save_plan(path, plan)
    text = path.read_text(encoding="utf-8")
    assert text == dump_plan(plan) and text.endswith("}\n")
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert load_plan(path) == plan
    save_plan(path, load_plan(path))
    assert path.read_text(encoding="utf-8") == text
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_save_refuses_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "kJ8dH2mQ9xZ4pL7vN3bR6tY1wE5uA0sD")
    leaky = _plan(
        None,
        changes=[
            Change(
                address="job.ft", kind="job", action=Action.CREATE, after={"note": "kJ8dH2mQ9xZ4pL7vN3bR6tY1wE5uA0sD"}
            )
        ],
    )
    with pytest.raises(PlanFileError) as err:
        save_plan(tmp_path / "plan.json", leaky)
    assert "changes[0].after.note" in err.value.message and "kJ8d" not in err.value.render()
    assert not (tmp_path / "plan.json").exists()


LOAD_CASES = {
    "missing": (None, "does not exist"),
    "truncated": ('{\n  "changes": [\n    {"address": "file.a", "ac', "truncated"),
    "garbage": ("not json at all", "not valid JSON"),
    "not a plan": ('{"format_version": 1, "lineage": "x"}', "not an ftops plan file"),
    "newer major": ('{"format_version": "2.0", "id": "x", "changes": []}', "upgrade ftops"),
    "damaged": ('{"format_version": "1.0", "id": "x", "changes": [], "lock_serial": "many"}', "damaged"),
}


@pytest.mark.parametrize("case", sorted(LOAD_CASES))
def test_load_errors_have_where_and_hint(tmp_path: Path, case: str) -> None:
    text, expected = LOAD_CASES[case]
    path = tmp_path / "plan.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanFileError) as err:
        load_plan(path)
    rendered = err.value.render()
    assert expected in rendered and str(path) in rendered and "hint:" in rendered


def test_plan_on_empty_state_cannot_be_applied_twice(tmp_path: Path) -> None:
    """hashicorp/terraform#24078: a plan made with no state must not create everything a second time."""
    lock_path = tmp_path / "ftops.lock"
    plan_path = tmp_path / "plan.json"
    save_plan(plan_path, _plan(None))

    _apply(LockStore.open(lock_path, endpoint="local"), load_plan(plan_path))
    lock = read_lock(lock_path)
    assert lock is not None and load_plan(plan_path).id in lock.applied_plans

    with pytest.raises(PlanFileError, match="already applied"):
        _apply(LockStore.open(lock_path, endpoint="local"), load_plan(plan_path))
    # Even with the applied-plans record gone (e.g. trimmed), the missing-lock binding still refuses it.
    with pytest.raises(PlanFileError, match="no lock file, but one exists now"):
        check_plan_applicable(_plan(None, id="another"), lock, DIGEST, "local")
    assert read_lock(lock_path) == lock  # refusals changed nothing


def test_saved_plan_is_single_use_with_a_lock(tmp_path: Path) -> None:
    store = LockStore.open(tmp_path / "ftops.lock", endpoint="local")
    store.put("file.old", LockedResource(kind="file", remote_id="f-0", fingerprint="cd" * 32))
    plan = _plan(store.lock)
    _apply(store, plan)
    with pytest.raises(PlanFileError, match="already applied"):
        _apply(store, plan)


def _lock(serial: int = 3, lineage: str = "aaaaaaaa-0000-4000-8000-000000000000") -> LockFile:
    return LockFile(lineage=lineage, serial=serial, endpoint="local")


STALE_CASES = {
    "serial moved": (_plan(_lock(3)), _lock(4), DIGEST, "local", "the lock changed since this plan was made"),
    "other lineage": (
        _plan(_lock()),
        _lock(lineage="bbbbbbbb-0000-4000-8000-000000000000"),
        DIGEST,
        "local",
        "lineage",
    ),
    "lock deleted": (_plan(_lock()), None, DIGEST, "local", "no longer exists"),
    "manifests changed": (_plan(_lock()), _lock(), "sha256:other", "local", "manifests changed"),
    "other endpoint": (_plan(_lock()), _lock(), DIGEST, "https://api.mistral.ai", "made against local"),
    "applied": (
        _plan(_lock()),
        _lock().model_copy(update={"applied_plans": [_plan(None).id]}),
        DIGEST,
        "local",
        "already applied",
    ),
}


@pytest.mark.parametrize("case", sorted(STALE_CASES))
def test_stale_plans_are_refused(case: str) -> None:
    plan, lock, digest, endpoint, expected = STALE_CASES[case]
    with pytest.raises(PlanFileError) as err:
        check_plan_applicable(plan, lock, digest, endpoint)
    assert expected in err.value.render()
    assert "ftops plan" in (err.value.hint or "")


def test_fresh_plans_are_accepted() -> None:
    check_plan_applicable(_plan(None), None, DIGEST, "local")
    check_plan_applicable(_plan(_lock()), _lock(), DIGEST, "local")
