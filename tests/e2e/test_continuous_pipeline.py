"""The continuous pipeline of examples/continuous, walked on the embedded local API.

New data committed → the plan shows the new version, the replaced job and its cost, and that the pinned job
stays → apply trains it, the gate evaluates it against the current model, promotes it and archives the
previous one. Then deliberately wrong data: the gate fails, apply exits 1 with the reasons, the current model
keeps its name, the verdict is in the lock, and the next plan reports the promotion as blocked.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ftops.cli import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "continuous"


def _run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), *args], catch_exceptions=False)


def _lock(root: Path) -> dict:
    return json.loads((root / "ftops.lock").read_text())["resources"]


def _models(root: Path) -> dict[str, dict]:
    out = _run(root, "models", "--all", "--format", "json")
    assert out.exit_code == 0, out.output
    return {m["id"]: m for m in json.loads(out.stdout)["models"]}


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FTOPS_LOCAL_SPEED", "100000")
    monkeypatch.setenv("FTOPS_ENDPOINT", "local")  # the embedded local API, on purpose (also under CI=true)
    root = tmp_path / "continuous"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".ftops", "ftops.lock"))
    return root


def test_new_data_is_trained_gated_and_promoted_and_wrong_data_is_not(project: Path) -> None:
    first = _run(project, "apply", "--auto-approve", "--wait")
    assert first.exit_code == 0, first.output
    lock = _lock(project)
    v1_model, baseline_job = lock["model.support"]["remote_id"], lock["job.support-baseline"]["remote_id"]
    assert lock["model.support"]["attributes"]["gate"]["passed"] is True

    # 1. New data committed: the plan shows the new version, who follows it, its cost, and the gate.
    shutil.copy(project / "updates" / "support-v2.jsonl", project / "data" / "support.jsonl")
    plan = _run(project, "plan")
    assert plan.exit_code == 0, plan.output
    assert "the content of data/support.jsonl changed" in plan.output
    assert "jobs following the latest version (replaced: new paid jobs): job.support" in plan.output
    assert "jobs staying on the version they trained on (data_version: pinned): job.support-baseline@" in plan.output
    assert "Estimated training cost: $4.00 (1 job)" in plan.output
    assert f"gate support-eval: runs before promotion, once job.support has produced its fine-tuned model against " \
           f"the current model {v1_model}" in plan.output
    markdown = _run(project, "plan", "--format", "markdown")
    assert "| `?` | `model.support` | gate | gate support-eval: runs before promotion" in markdown.output

    # 2. Apply: trained, gated (better than the current model on the same set), promoted; the old one archived.
    second = _run(project, "apply", "--auto-approve", "--wait")
    assert second.exit_code == 0, second.output
    assert "gate support-eval passed" in second.output and "score 1.000 vs current 0.750" in second.output
    lock = _lock(project)
    v2_model = lock["model.support"]["remote_id"]
    assert v2_model != v1_model and lock["job.support-baseline"]["remote_id"] == baseline_job
    record = lock["model.support"]["attributes"]["gate"]
    assert (record["candidate"], record["current"], record["score"], record["current_score"], record["passed"]) == \
        (v2_model, v1_model, 1.0, 0.75, True)
    models = _models(project)
    assert models[v2_model]["name"] == "acme-support" and models[v2_model]["state"] == "active"
    assert models[v1_model]["state"] == "archived"

    # 3. Deliberately wrong data: trained, but the gate fails; nothing is promoted and apply says why.
    shutil.copy(project / "updates" / "support-wrong.jsonl", project / "data" / "support.jsonl")
    third = _run(project, "apply", "--auto-approve", "--wait")
    assert third.exit_code == 1, third.output
    assert "gate support-eval FAILED" in third.output and "is below min_score 0.7" in third.output
    assert f"worse than the current model's 1.000 ({v2_model})" in third.output
    assert f"the current model {v2_model} stays named" in third.output
    lock = _lock(project)
    wrong_model = lock["job.support"]["fine_tuned_model"]
    assert lock["model.support"]["remote_id"] == v2_model
    assert lock["job.support"]["attributes"]["gate"]["passed"] is False
    models = _models(project)
    assert models[v2_model]["name"] == "acme-support" and models[v2_model]["state"] == "active"
    assert models[wrong_model]["name"] != "acme-support"

    # 4. The next plan reports the blocked promotion, never silently skips it, and plans nothing to pay for.
    blocked = _run(project, "plan", "--detailed-exitcode")
    assert blocked.exit_code == 2, blocked.output
    assert "promotion blocked by gate support-eval" in blocked.output
    assert "--replace job.support" in blocked.output and "No changes are planned" in blocked.output
    manifest = project / "manifests" / "project.yaml"
    manifest.write_text(manifest.read_text().replace("promoted only through", "only ever promoted through"))
    renamed = _run(project, "plan", "--format", "json")
    changes = json.loads(renamed.stdout)["resource_changes"]  # the current model stays managed meanwhile
    assert [(c["address"], c["actions"], c["remote_id"]) for c in changes] == [("model.support", ["update"], v2_model)]

    # 5. Metrics where people look: status and jobs show the final losses; show gives one job (or model) in depth.
    status = _run(project, "status", "--format", "json")
    rows = {r["address"]: r for r in json.loads(status.stdout)["resources"]}
    assert isinstance(rows["job.support"]["train_loss"], float) and rows["model.support"]["train_loss"] is None
    assert "TRAIN LOSS" in _run(project, "status").output and "VALID LOSS" in _run(project, "jobs").output
    shown = json.loads(_run(project, "show", "job.support", "--format", "json").stdout)
    assert shown["jobs"][0]["job_id"] == lock["job.support"]["remote_id"] and shown["jobs"][0]["checkpoints"]
    model = _run(project, "show", "model.support", "--no-chart")
    assert model.exit_code == 0, model.output
    assert "Gate support-eval: FAILED" in model.output and v2_model in model.output

    # 6. The declared Evaluation from the command line: the named model passes it, the blocked candidate fails.
    assert _run(project, "eval", "model.support", "--evaluation", "support-eval").exit_code == 0
    failing = _run(project, "eval", "job.support", "--evaluation", "support-eval")
    assert failing.exit_code == 1 and "below --min-score 0.7: job.support 0.000" in failing.output

    # 7. A broken evaluation set stops the plan (file:line), before any training is paid for.
    with (project / "data" / "eval.jsonl").open("a") as fh:
        fh.write("{not json\n")
    broken = _run(project, "plan")
    assert broken.exit_code == 1 and "data/eval.jsonl:9: not valid JSON" in broken.output
    assert "Traceback" not in broken.output
