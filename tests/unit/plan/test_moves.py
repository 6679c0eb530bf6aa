"""Moved declarations at plan time (pure): the lock view, the MOVE change, and how it renders."""

from __future__ import annotations

import json

import jsonschema
import pytest

from ftops.errors import FtopsError
from ftops.plan.model import Action, Plan
from ftops.plan.moves import apply_moves
from ftops.render.json import plan_document, plan_json_schema
from ftops.render.markdown import render_markdown
from ftops.render.text import render_text
from ftops.state.model import Intent, LockedResource, LockFile


def _lock() -> LockFile:
    return LockFile(lineage="l", serial=4, resources={
        "job.old": LockedResource(kind="job", remote_id="J1", fingerprint="fp", attributes={"suffix": "old"}),
        "model.m": LockedResource(kind="model", remote_id="ft:1", fingerprint="job.old", attributes={"job": "job.old"}),
    }, intents=[Intent(id="i", address="job.old", action="create", fingerprint="fp", started_at=1.0)])


def test_a_move_relocates_the_job_and_what_points_at_it_in_a_copy() -> None:
    lock = _lock()
    view, changes = apply_moves([("job.old", "job.new")], lock, {"job.new": "old"})
    assert view is not None and set(view.resources) == {"job.new", "model.m"}
    assert view.resources["model.m"].fingerprint == "job.new"
    assert view.resources["model.m"].attributes["job"] == "job.new"
    assert view.intents[0].address == "job.new"
    assert "job.old" in lock.resources  # the input is untouched: planning is pure
    [change] = changes
    assert (change.action, change.address, change.remote_id, change.before) == (
        Action.MOVE, "job.new", "J1", {"address": "job.old"})
    assert len(change.reasons) == 1  # same suffix: nothing to warn about


def test_an_applied_move_is_satisfied_and_a_default_suffix_change_is_named() -> None:
    lock = _lock()
    assert apply_moves([("job.gone", "job.new")], lock) == (lock, [])
    _, [change] = apply_moves([("job.old", "job.new")], lock, {"job.new": "new"})
    assert "set `suffix: old` in job.new" in change.reasons[1]


def test_both_addresses_tracked_stops_the_plan() -> None:
    lock = _lock()
    lock.resources["job.new"] = LockedResource(kind="job", remote_id="J2", fingerprint="fp")
    with pytest.raises(FtopsError, match="tracks both addresses"):
        apply_moves([("job.old", "job.new")], lock)


def test_move_renders_in_text_json_and_markdown() -> None:
    _, changes = apply_moves([("job.old", "job.new")], _lock())
    plan = Plan(id="p", created_at=0.0, endpoint="local", lock_lineage="l", lock_serial=4, manifest_digest="d",
                changes=changes)
    text = render_text(plan)
    assert '→ job "new"' in text and "moved from job.old" in text and "Plan: 1 to move." in text
    document = plan_document(plan)
    assert document["resource_changes"][0]["actions"] == ["move"] and document["summary"]["move"] == 1
    assert document["resource_changes"][0]["reason"] == "moved"
    assert document["cost"]["total"] == 0
    jsonschema.validate(json.loads(json.dumps(document)), plan_json_schema())
    assert "| `→` | `job.new` | move |" in render_markdown(plan)
