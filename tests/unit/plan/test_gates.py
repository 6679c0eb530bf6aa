"""A Model's gate in the pure planner: a GATE change before the promotion, skipped once this candidate passed
this evaluation, and a blocked promotion (a problem, nothing planned) once it failed — until the evaluation
(its digest) or the candidate changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from ftops.evals.config import GateConfig
from ftops.evals.smoke import SmokeConfig
from ftops.plan.build import build_plan
from ftops.plan.model import Plan

from .harness import _desired, _live, _lock

GATE = GateConfig(evaluation="support-eval", path="data/eval.jsonl", sha256="e" * 64, scorer="contains",
                  min_score=0.7)
DOCS = [
    {"apiVersion": "ftops/v1", "kind": "File", "metadata": {"name": "train"}, "spec": {"path": "data/train.jsonl"}},
    {"apiVersion": "ftops/v1", "kind": "FineTuningJob", "metadata": {"name": "support"},
     "spec": {"model": "open-mistral-7b", "training_files": [{"file": "train"}],
              "hyperparameters": {"training_steps": 10}}},
    {"apiVersion": "ftops/v1", "kind": "Model", "metadata": {"name": "support"},
     "spec": {"job": "support", "name": "acme-support"}},
]
OLD, NEW = "ft:open-mistral-7b:1:20260101:support:old", "ft:open-mistral-7b:1:20260101:support:new"


def _plan(tmp_path: Path, record: dict[str, Any] | None, gate: GateConfig = GATE,
          smoke: dict[str, Any] | None = None) -> Plan:
    desired = _desired(DOCS, tmp_path, {})
    gated = {a: dataclasses.replace(m, gate=gate) for a, m in desired.models.items()}
    desired = dataclasses.replace(desired, models=gated)
    job_attributes = {"gate": record} if record is not None else {}
    if smoke is not None:
        job_attributes["smoke"] = smoke
    lock = _lock({"lock": {
        "file.train": {"remote_id": "f1"},
        "job.support": {"remote_id": "j1", "status": "SUCCESS", "fine_tuned_model": NEW,
                        "attributes": job_attributes},
        "model.support": {"remote_id": OLD, "status": "active"},
    }}, desired)
    live = _live({
        "files": [{"id": "f1", "filename": "{upload:file.train}"}],
        "jobs": [{"id": "j1", "status": "SUCCESS", "fine_tuned_model": NEW}],
        "models": [{"id": OLD, "job": "j0", "name": "acme-support", "archived": False, "created": 1},
                   {"id": NEW, "job": "j1", "name": None, "archived": False, "created": 2}],
    }, desired)
    return build_plan(desired, lock, live, plan_id="p", now=6000.0, endpoint_identity="local")


def _record(passed: bool, *, candidate: str = NEW, digest: str = GATE.digest) -> dict[str, Any]:
    return {"evaluation": "support-eval", "digest": digest, "candidate": candidate, "current": OLD, "score": 0.0,
            "current_score": 1.0, "passed": passed, "reasons": ["score 0.000 is below min_score 0.7"]}


def _actions(plan: Plan) -> list[tuple[str, str, str | None]]:
    return [(c.address, c.action.value, c.remote_id) for c in plan.changes]


def test_a_new_candidate_is_gated_before_it_takes_the_name_and_the_old_one_is_archived(tmp_path: Path) -> None:
    plan = _plan(tmp_path, None)
    # The smoke test every new model gets comes first: a model that does not answer is not worth evaluating.
    assert _actions(plan) == [("model.support", "smoke-test", NEW), ("model.support", "gate", NEW),
                              ("model.support", "update", NEW), ("model.support", "archive", OLD)]
    gate = plan.changes[1]
    assert gate.gate == GATE and (gate.after or {})["current"] == OLD
    assert any("last result: no result yet" in r for r in gate.reasons)


def test_a_candidate_that_passed_this_evaluation_is_not_evaluated_again(tmp_path: Path) -> None:
    smoked = {"model": NEW, "digest": SmokeConfig().digest, "passed": True, "answer": "yes", "reason": None}
    assert _actions(_plan(tmp_path, _record(True), smoke=smoked)) == [("model.support", "update", NEW),
                                                                      ("model.support", "archive", OLD)]


def test_a_failed_candidate_blocks_the_promotion_and_nothing_is_planned(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _record(False))
    assert plan.changes == [] and not plan.in_sync
    [problem] = plan.problems
    assert problem.address == "model.support" and problem.remote_id == NEW
    assert "promotion blocked by gate support-eval" in problem.message and f"{OLD} stays named" in problem.message
    assert "--replace job.support" in problem.message and "below min_score" in problem.message


@pytest.mark.parametrize("record", [_record(False, digest="0" * 16), _record(False, candidate="ft:other")],
                         ids=["evaluation-changed", "another-candidate"])
def test_a_failed_verdict_for_another_evaluation_or_candidate_does_not_block(
    tmp_path: Path, record: dict[str, Any]
) -> None:
    plan = _plan(tmp_path, record)
    assert [a for _, a, _ in _actions(plan)] == ["smoke-test", "gate", "update", "archive"] and not plan.problems


def test_a_stricter_evaluation_has_another_digest() -> None:
    assert GATE.digest != GATE.model_copy(update={"min_score": 0.9}).digest
    assert GATE.digest != GATE.model_copy(update={"sha256": "f" * 64}).digest
