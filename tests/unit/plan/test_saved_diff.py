"""The saved-vs-recomputed comparison: progress is allowed, anything apply would do differently is not."""

from __future__ import annotations

from ftops.plan.model import Action, Change, Cost, Plan
from ftops.plan.saved_diff import MAX_SHOWN, differences, summarize


def _plan(*changes: Change) -> Plan:
    return Plan(id="p", created_at=0.0, endpoint="local", lock_lineage=None, lock_serial=0,
                manifest_digest="sha256:x", changes=list(changes))


def _start(status: str = "VALIDATING", cost: Cost | None = None, reason: str = "state: started") -> Change:
    return Change(address="job.a", kind="job", action=Action.START, remote_id="ft-1", before={"status": status},
                  after={"state": "started"}, cost=cost or Cost(cost=4.0, source="estimate"), reasons=[reason])


def test_pure_progress_is_not_a_difference() -> None:
    saved = _plan(_start())
    fresh = _plan(_start(status="VALIDATED", cost=Cost(cost=3.5, source="api"), reason="state: started (validated)"))
    assert differences(saved, fresh) == []


def test_same_source_cost_change_is_a_difference() -> None:
    found = differences(_plan(_start()), _plan(_start(cost=Cost(cost=40.0, source="estimate"))))
    assert found == ["job.a (start): cost.cost: the plan file says 4.0, the manifests and state say 40.0"]


def test_listing_is_bounded() -> None:
    saved = _plan(*[Change(address=f"file.f{i}", kind="file", action=Action.UPLOAD) for i in range(30)])
    found = differences(saved, _plan())
    assert len(found) == 30
    text = summarize(found)
    assert text.count("\n") == MAX_SHOWN and text.endswith(f"… and {30 - MAX_SHOWN} more")
