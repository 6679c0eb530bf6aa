"""best_of in the pure planner: the best finished job of a sweep by its last checkpoint, the ranking on the
changes; nothing while the sweep trains; a problem (never a guess) when no job reported the metric."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ftops.plan.build import build_plan
from ftops.plan.model import Plan

from .harness import _desired, _live, _lock


def _job(name: str, steps: int) -> dict[str, Any]:
    return {"apiVersion": "ftops/v1", "kind": "FineTuningJob",
            "metadata": {"name": name, "annotations": {"ftops.dev/matrix-of": "sweep"}},
            "spec": {"model": "open-mistral-7b", "training_files": [{"file": "train"}],
                     "hyperparameters": {"training_steps": steps}}}


def _plan(tmp_path: Path, by: str, *, second: str = "SUCCESS") -> Plan:
    docs = [{"apiVersion": "ftops/v1", "kind": "File", "metadata": {"name": "train"},
             "spec": {"path": "data/train.jsonl"}},
            _job("sweep-1", 10), _job("sweep-2", 20),
            {"apiVersion": "ftops/v1", "kind": "Model", "metadata": {"name": "best"},
             "spec": {"best_of": {"sweep": "sweep", "by": by}, "name": "support-best"}}]
    desired = _desired(docs, tmp_path, {})
    lock = _lock({"lock": {"file.train": {"remote_id": "f1"},
                           "job.sweep-1": {"remote_id": "j1", "status": "SUCCESS"},
                           "job.sweep-2": {"remote_id": "j2", "status": second}}}, desired)

    def job(i: str, status: str, losses: list[float]) -> dict[str, Any]:
        done = status == "SUCCESS"
        return {"id": i, "status": status, "fine_tuned_model": f"ft:x:{i}" if done else None,
                "checkpoints": [{"step_number": n + 1, "created_at": 1, "metrics": {"train_loss": loss}}
                                for n, loss in enumerate(losses)] if done else None}

    live = _live({"files": [{"id": "f1", "filename": "{upload:file.train}"}],
                  "jobs": [job("j1", "SUCCESS", [1.2, 0.9]), job("j2", second, [1.1, 0.7, 0.6])],
                  "models": [{"id": "ft:x:j1", "job": "j1", "created": 1}, {"id": "ft:x:j2", "job": "j2",
                                                                             "created": 1}]}, desired)
    return build_plan(desired, lock, live, plan_id="p", now=6000.0, endpoint_identity="local")


def test_the_lowest_final_loss_wins_and_the_changes_carry_the_ranking(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "train_loss")
    assert [(c.address, c.action.value, c.remote_id) for c in plan.changes] == [
        ("model.best", "smoke-test", "ft:x:j2"), ("model.best", "update", "ft:x:j2")]
    assert (plan.changes[0].after or {})["job"] == "job.sweep-2"  # the winner is smoke-tested before it is named
    after = plan.changes[1].after or {}
    assert after["job"] == "job.sweep-2" and after["ranking"] == [["job.sweep-2", 0.6], ["job.sweep-1", 0.9]]
    assert after["curves"]["job.sweep-2"] == [[1, 1.1], [2, 0.7], [3, 0.6]]
    assert plan.changes[1].reasons[0] == "best_of sweep by train_loss: job.sweep-2 is the best of 2 (0.6000)"


def test_nothing_is_chosen_while_a_sweep_job_trains(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "train_loss", second="RUNNING")
    assert plan.changes == [] and not plan.problems
    assert [o.message for o in plan.progress if o.address == "model.best"] == [
        "best_of sweep: 1 of 2 job(s) finished; the best by train_loss is chosen once all have finished"]


def test_a_metric_no_job_reported_is_a_problem_not_a_guess(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "valid_loss")
    assert plan.changes == []
    assert [p.message for p in plan.problems] == [
        "best_of sweep: no successful job of the sweep reported valid_loss (valid_* metrics need validation_files)"]
