"""``ftops plan`` end to end: the CLI against the embedded local API over real HTTP (CliRunner, a tmp project)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from ftops.cli import cli
from ftops.plan.planfile import load_plan
from ftops.render.json import plan_json_schema
from ftops.render.markdown import MARKER

MANIFEST = """\
apiVersion: ftops/v1
kind: File
metadata: {name: train}
spec: {path: ../data/train.jsonl}
---
apiVersion: ftops/v1
kind: File
metadata: {name: valid}
spec: {path: ../data/valid.jsonl}
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: support}
spec:
  model: open-mistral-7b
  training_files: [{file: train}]
  validation_files: [valid]
  hyperparameters: {training_steps: 40}
  state: STATE
"""


def _rows(n: int, tag: str) -> str:
    rows = [
        {"messages": [{"role": "user", "content": f"{tag} {i}: where is my order?"},
                      {"role": "assistant", "content": f"It ships tomorrow ({tag} {i})."}]}
        for i in range(n)
    ]
    return "".join(json.dumps(r) + "\n" for r in rows)


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("FTOPS_ENDPOINT", "MISTRAL_API_KEY", "CI"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "manifests").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text(_rows(20, "train"))
    (tmp_path / "data" / "valid.jsonl").write_text(_rows(5, "valid"))
    (tmp_path / "manifests" / "main.yaml").write_text(MANIFEST.replace("STATE", "started"))
    return tmp_path


def _plan(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), "plan", *args])


def test_fresh_project_plans_changes_with_exit_2(project: Path) -> None:
    result = _plan(project, "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Using the embedded local API at http://127.0.0.1:")
    assert '  + file "train" {' in result.stdout
    assert '  ▶ job "support" {' in result.stdout
    assert "Plan: 2 to upload, 1 to create, 1 to start. Estimated training cost: $10.49 (1 job)." in result.stdout
    assert "\x1b[" not in result.stdout  # no TTY: plain
    assert not (project / "ftops.lock").exists()  # planning writes nothing


def test_max_cost_fails_the_plan(project: Path) -> None:
    over = _plan(project, "--max-cost", "5")
    assert over.exit_code == 1
    assert "above --max-cost $5.00 (job.support $10.49)" in over.stderr
    assert "Traceback" not in over.output
    under = _plan(project, "--max-cost", "50")
    assert under.exit_code == 0, under.output


def test_json_output_and_saved_plan(project: Path) -> None:
    result = _plan(project, "--format", "json", "-o", "plan.json")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Using the embedded local API")  # stdout stays pure JSON
    document = json.loads(result.stdout)
    jsonschema.validate(document, plan_json_schema())
    assert [c["actions"][0] for c in document["resource_changes"]] == ["upload", "upload", "create", "start"]
    assert document["endpoint"] == "local" and document["lock"] == {"lineage": None, "serial": 0}
    saved = load_plan(project / "plan.json")
    assert saved.id == document["plan_id"] and len(saved.changes) == 4


def test_markdown_output_has_the_sticky_marker(project: Path) -> None:
    result = _plan(project, "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(MARKER + "\n### ftops plan — Plan: 2 to upload")


def test_target_narrows_and_unknown_target_is_an_error(project: Path) -> None:
    narrowed = _plan(project, "--target", "file.valid")
    assert narrowed.exit_code == 0, narrowed.output
    assert "Plan: 1 to upload." in narrowed.stdout
    unknown = _plan(project, "--target", "job.nope")
    assert unknown.exit_code == 1
    assert "--target job.nope: no such resource" in unknown.stderr and "hint: known addresses" in unknown.stderr


def test_after_apply_the_plan_is_empty(project: Path) -> None:
    (project / "manifests" / "main.yaml").write_text(MANIFEST.replace("STATE", "created"))
    applied = CliRunner().invoke(cli, ["-C", str(project), "apply", "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    again = _plan(project, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes. Your fine-tuning resources match the manifests." in again.stdout
