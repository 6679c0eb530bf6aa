"""merge_locks: the rules of the ftops.lock merge driver, table by table (three-way against the ancestor)."""

from __future__ import annotations

import pytest

from ftops.state.merge import LockMergeConflict, merge_locks
from ftops.state.model import Intent, LockedResource, LockFile

LINEAGE = "11111111-1111-4111-8111-111111111111"


def job(remote_id: str, *, created_at: int = 100, status: str = "QUEUED", model: str | None = None) -> LockedResource:
    return LockedResource(kind="job", remote_id=remote_id, fingerprint="fp", status=status, created_at=created_at,
                          fine_tuned_model=model)


def lock(serial: int, **resources: LockedResource) -> LockFile:
    return LockFile(lineage=LINEAGE, serial=serial, endpoint="local",
                    resources={k.replace("_", "."): v for k, v in resources.items()})


def test_union_of_both_sides_and_serial_max_plus_one() -> None:
    base = lock(3)
    ours = lock(5, job_a=job("A"))
    theirs = lock(7, job_b=job("B"))
    ours.applied_plans, theirs.applied_plans = ["p1"], ["p2", "p1"]
    ours.intents = [Intent(id="i1", address="job.a", action="create", fingerprint="f", started_at=2.0)]
    theirs.intents = [Intent(id="i2", address="job.b", action="create", fingerprint="f", started_at=1.0)]
    merged = merge_locks(base, ours, theirs)
    assert set(merged.lock.resources) == {"job.a", "job.b"}
    assert merged.lock.serial == 8
    assert merged.lock.applied_plans == ["p1", "p2"]
    assert [i.id for i in merged.lock.intents] == ["i2", "i1"]
    assert merged.notes == []


def test_a_forget_on_one_side_wins_over_no_change_but_not_over_a_change() -> None:
    base = lock(1, job_a=job("A"), job_b=job("B"))
    ours = lock(2, job_b=job("B"))  # forgot job.a
    theirs = lock(2, job_a=job("A"), job_b=job("B", status="RUNNING"))
    merged = merge_locks(base, ours, theirs).lock
    assert set(merged.resources) == {"job.b"}
    assert merged.resources["job.b"].status == "RUNNING"
    changed = lock(2, job_a=job("A", status="SUCCESS", model="ft:a"), job_b=job("B"))
    assert merge_locks(base, ours, changed).lock.resources["job.a"].fine_tuned_model == "ft:a"


def test_same_object_keeps_the_observation_furthest_along_whichever_side_is_ours() -> None:
    base = lock(1, job_a=job("A"))
    left = lock(2, job_a=job("A", status="RUNNING"))
    right = lock(2, job_a=job("A", status="SUCCESS", model="ft:a"))
    assert merge_locks(base, left, right).lock == merge_locks(base, right, left).lock
    assert merge_locks(base, left, right).lock.resources["job.a"].status == "SUCCESS"


def test_different_objects_at_one_address_keep_the_later_one_and_report_the_other() -> None:
    ours = lock(2, job_a=job("OLD", created_at=100))
    theirs = lock(2, job_a=job("NEW", created_at=200))
    for left, right in ((ours, theirs), (theirs, ours)):
        merged = merge_locks(None, left, right)
        assert merged.lock.resources["job.a"].remote_id == "NEW"
        assert len(merged.notes) == 1 and "OLD stays on the API untracked" in merged.notes[0]


@pytest.mark.parametrize("field", ["lineage", "endpoint"])
def test_different_lineage_or_endpoint_is_a_conflict(field: str) -> None:
    ours = lock(1, job_a=job("A"))
    theirs = ours.model_copy(update={field: "00000000-0000-4000-8000-000000000000"})
    with pytest.raises(LockMergeConflict):
        merge_locks(None, ours, theirs)
