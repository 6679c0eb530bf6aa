"""The smoke test in the pure planner: a SMOKE change before a new model is named, none with ``smoke: false``
or once this model passed this test, planned again (with the last failure) after a failed one, and a
classification call for a classifier job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ftops.evals.smoke import SmokeConfig
from ftops.plan.build import build_plan
from ftops.plan.model import Plan
from ftops.render.text import render_text

from .harness import _desired, _live, _lock

OLD, NEW = "ft:open-mistral-7b:support:old", "ft:open-mistral-7b:support:new"


def _plan(tmp_path: Path, smoke: Any = None, record: dict[str, Any] | None = None,
          job_type: str = "completion", provider: str = "mistral") -> Plan:
    spec: dict[str, Any] = {"job": "support", "name": "acme-support"}
    if smoke is not None:
        spec["smoke"] = smoke
    job: dict[str, Any] = {"model": "open-mistral-7b", "training_files": [{"file": "train"}],
                           "hyperparameters": {"training_steps": 10}}
    if provider != "mistral":
        job.update(provider=provider, model="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
                   hyperparameters={"n_epochs": 1})
        spec.pop("name")  # Together has no model names
    if job_type == "classifier":
        job.update(model="ministral-3b-latest", job_type="classifier",
                   classifier_targets=[{"name": "intent", "labels": ["a", "b"]}])
    docs = [{"apiVersion": "ftops/v1", "kind": "File", "metadata": {"name": "train"},
             "spec": {"path": "data/train.jsonl"}},
            {"apiVersion": "ftops/v1", "kind": "FineTuningJob", "metadata": {"name": "support"}, "spec": job},
            {"apiVersion": "ftops/v1", "kind": "Model", "metadata": {"name": "support"}, "spec": spec}]
    desired = _desired(docs, tmp_path, {})
    lock = _lock({"lock": {
        "file.train": {"remote_id": "f1"},
        "job.support": {"remote_id": "j1", "status": "SUCCESS", "fine_tuned_model": NEW,
                        "attributes": {"smoke": record} if record else {}},
        "model.support": {"remote_id": OLD, "status": "active"},
    }}, desired)
    live = _live({"files": [{"id": "f1", "filename": "{upload:file.train}"}],
                  "jobs": [{"id": "j1", "status": "SUCCESS", "fine_tuned_model": NEW}],
                  "models": [{"id": OLD, "job": "j0", "name": "acme-support", "created": 1},
                             {"id": NEW, "job": "j1", "created": 2}]}, desired)
    return build_plan(desired, lock, live, plan_id="p", now=6000.0, endpoint_identity="local")


def _actions(plan: Plan) -> list[str]:
    return [c.action.value for c in plan.changes]


def test_a_new_model_is_smoke_tested_before_it_takes_the_name(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    assert _actions(plan) == ["smoke-test", "update", "archive"]
    smoke = plan.changes[0]
    assert smoke.remote_id == NEW and smoke.smoke == SmokeConfig() and (smoke.after or {})["job"] == "job.support"
    text = render_text(plan)
    assert "model.support ft:open-mistral-7b:support:new will smoke-test the new model" in text
    assert "1 to smoke-test, 1 to update, 1 to archive" in text


def test_smoke_false_plans_no_smoke_test(tmp_path: Path) -> None:
    assert _actions(_plan(tmp_path, smoke=False)) == ["update", "archive"]


def test_a_pass_of_this_test_for_this_model_is_not_run_again(tmp_path: Path) -> None:
    passed = {"model": NEW, "digest": SmokeConfig().digest, "passed": True, "answer": "yes", "reason": None}
    assert _actions(_plan(tmp_path, record=passed)) == ["update", "archive"]
    other_test = {**passed, "digest": SmokeConfig(expect="x").digest}
    assert _actions(_plan(tmp_path, record=other_test)) == ["smoke-test", "update", "archive"]


def test_a_failed_smoke_test_is_planned_again_with_its_reason(tmp_path: Path) -> None:
    config = {"prompt": "ping", "expect": "^pong$"}
    failed = {"model": NEW, "digest": SmokeConfig(**config).digest, "passed": False, "answer": "hi",
              "reason": "the answer \"hi\" does not match expect /^pong$/"}
    plan = _plan(tmp_path, smoke=config, record=failed)
    assert _actions(plan) == ["smoke-test", "update", "archive"]
    assert any("last result: FAILED (the answer" in r and "does not match" in r for r in plan.changes[0].reasons)
    assert not plan.problems


def test_a_classifier_job_gets_a_classification_smoke_test(tmp_path: Path) -> None:
    smoke = _plan(tmp_path, job_type="classifier").changes[0]
    assert smoke.smoke is not None and smoke.smoke.classifier
    assert "a classification of" in smoke.smoke.describe()


def test_no_smoke_test_for_a_model_on_together(tmp_path: Path) -> None:
    # Together serves a fine-tuned model only once it is deployed: a chat to the job's output would fail.
    assert "smoke-test" not in _actions(_plan(tmp_path, provider="together"))
    assert "smoke-test" in _actions(_plan(tmp_path))
