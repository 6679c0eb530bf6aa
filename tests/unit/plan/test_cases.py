"""One parametrised test over every YAML case in ``cases/``: build the plan, compare with ``expect``.

Each expected change is matched in order against the plan's changes by the keys it names (address, action,
remote_id, depends_on, replace_paths, field_paths, old_job_disposition, reason, why, cost_source); drift,
progress and problems by address and a message fragment, errors by a fragment. ``absent`` lists strings that
must not appear anywhere in the plan's JSON (secrets). ``replace`` lists ``--replace`` addresses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ftops.plan.model import Change, Observation

from .harness import CASES, load_case, plan_for

CASE_FILES = sorted(p.name for p in CASES.glob("*.yaml"))


def _match_change(change: Change, want: dict[str, Any]) -> list[str]:
    got: dict[str, Any] = {
        "address": change.address,
        "action": change.action.value,
        "remote_id": change.remote_id,
        "depends_on": change.depends_on,
        "replace_paths": [fc.path for fc in change.field_changes if fc.forces_replacement],
        "field_paths": [fc.path for fc in change.field_changes],
        "old_job_disposition": change.old_job_disposition,
        "replaced_remote_id": change.replaced_remote_id,
        "cost_source": change.cost.source if change.cost else None,
        "after_is_none": change.after is None,
        "why": change.reason.value if change.reason is not None else None,
    }
    problems = []
    for key, value in want.items():
        if key == "reason":
            if not any(value in r for r in change.reasons):
                problems.append(f"no reason contains {value!r}: {change.reasons}")
        elif got.get(key) != value:
            problems.append(f"{key}: want {value!r}, got {got.get(key)!r}")
    return problems


def _match_observations(kind: str, got: list[Observation], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want), f"{kind}: want {len(want)}, got {[(o.address, o.message) for o in got]}"
    for obs, w in zip(got, want, strict=True):
        assert obs.address == w["address"], (kind, obs)
        assert w.get("message", "") in obs.message, (kind, obs.message)


@pytest.mark.parametrize("name", CASE_FILES)
def test_case(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = load_case(name)
    for key, value in case.get("env", {}).items():
        monkeypatch.setenv(key, value)
    plan, _ = plan_for(case, tmp_path)
    expect = case["expect"]
    wanted = expect.get("changes", [])
    summary = [(c.address, c.action.value) for c in plan.changes]
    assert len(plan.changes) == len(wanted), f"changes: {summary}"
    for change, want in zip(plan.changes, wanted, strict=True):
        problems = _match_change(change, want)
        assert not problems, f"{change.address} {change.action.value}: {problems}\nall: {summary}"
    _match_observations("drift", plan.drift, expect.get("drift", []))
    _match_observations("progress", plan.progress, expect.get("progress", []))
    _match_observations("problems", plan.problems, expect.get("problems", []))
    assert len(plan.errors) == len(expect.get("errors", [])), plan.errors
    for error, fragment in zip(plan.errors, expect.get("errors", []), strict=True):
        assert fragment in error, error
    if "total_cost_positive" in expect:
        assert (plan.total_cost() > 0) is expect["total_cost_positive"]
    text = plan.model_dump_json()
    for secret in expect.get("absent", []):
        assert secret not in text


def test_plan_is_deterministic(tmp_path: Path) -> None:
    case = load_case("new_project.yaml")
    first, _ = plan_for(case, tmp_path)
    second, _ = plan_for(case, tmp_path)
    assert first.model_dump_json() == second.model_dump_json()
