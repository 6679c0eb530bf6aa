"""A Model that follows the best job of a sweep (``best_of``), on the embedded local API: nothing is chosen
while the sweep trains; once it has finished the plan names the winner with the ranking (text and Markdown)
and apply names the winner's model. Refresh stays cheap: only the sweep's jobs get a detailed GET."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from eval_project import make_eval_project

from ftops.cli import cli

MANIFEST = """\
apiVersion: ftops/v1
kind: File
metadata: {name: support}
spec: {path: ../data/support.jsonl}
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: sweep}
spec:
  model: open-mistral-7b
  training_files: [{file: support}]
  matrix: {training_steps: [2, 3, 4]}
---
apiVersion: ftops/v1
kind: Model
metadata: {name: best}
spec:
  best_of: {sweep: sweep, by: train_loss}
  name: support-best
"""


def _run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), *args], catch_exceptions=False)


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FTOPS_LOCAL_SPEED", "100000")
    monkeypatch.setenv("FTOPS_ENDPOINT", "local")  # the embedded local API, on purpose (also under CI=true)
    root = make_eval_project(tmp_path)
    (root / "manifests" / "project.yaml").write_text(MANIFEST)
    return root


def test_best_of_waits_for_the_sweep_then_follows_its_best_job(project: Path) -> None:
    first = _run(project, "plan")
    assert first.exit_code == 0, first.output
    assert "best_of sweep: 0 of 3 job(s) finished" in first.output and 'model "best"' not in first.output
    trained = _run(project, "apply", "--auto-approve", "--wait")
    assert trained.exit_code == 0, trained.output

    metrics = json.loads(_run(project, "metrics", "job.*", "--format", "json", "--metric", "train_loss").stdout)
    ranked = [j["address"] for j in metrics["jobs"]]
    plan = _run(project, "plan")
    assert plan.exit_code == 0, plan.output
    assert f"best_of sweep by train_loss: {ranked[0]} is the best of 3" in plan.output
    assert "ranking of sweep sweep by train_loss (last checkpoint):" in plan.output
    assert f"1. {ranked[0]} " in plan.output and "← chosen" in plan.output and f"3. {ranked[2]} " in plan.output
    markdown = _run(project, "plan", "--format", "markdown").output
    assert f"best_of sweep by train_loss: {ranked[0]}" in markdown
    assert "```mermaid\nxychart-beta" in markdown and "train_loss" in markdown

    applied = _run(project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    lock = json.loads((project / "ftops.lock").read_text())["resources"]
    assert lock["model.best"]["attributes"]["job"] == ranked[0]
    assert lock["model.best"]["remote_id"] == lock[ranked[0]]["fine_tuned_model"]
    assert "No changes" in _run(project, "plan").output
