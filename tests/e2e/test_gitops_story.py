"""The whole GitOps story a team lives, end to end on the embedded local API (fast-forwarded).

init → plan (changes: exit 2) → apply --wait → plan (no changes: exit 0) → change a hyperparameter → the
plan shows a replacement with its cost → apply --wait → the new model carries the name, the old one is
archived, and `ftops jobs` shows both trainings.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ftops.cli import cli

# Simulated seconds per real second: a small job (minutes of simulated training) finishes in well under 1 s.
# FTOPS_ENDPOINT=local: the embedded API on purpose (in CI an endpoint nobody configured is refused).
ENV = {"CI": "true", "FTOPS_LOCAL_SPEED": "100000", "FTOPS_ENDPOINT": "local", "MISTRAL_API_KEY": ""}
SECRET_LOOKING = ("sk-", "Bearer ")



@pytest.fixture(autouse=True)
def _restore_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ftops -C DIR` changes the process's directory; put it back after each test."""
    monkeypatch.chdir(Path.cwd())

def ftops(project: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["-C", str(project), *args], env=ENV)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result


def json_out(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.timeout(180)
def test_gitops_story(tmp_path: Path) -> None:
    project = tmp_path / "team-repo"
    assert ftops(tmp_path, "init", str(project)).exit_code == 0
    assert ftops(project, "validate").exit_code == 0

    # A pull request: the plan has changes (exit 2), names the endpoint first, and prices the training.
    plan = ftops(project, "plan", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert plan.stdout.splitlines()[0].startswith("Using the embedded local API at http://127.0.0.1:")
    assert "Plan: 2 to upload, 1 to create, 1 to start" in plan.stdout
    assert "Estimated training cost: $" in plan.stdout
    # What the workflow's pull-request job runs.
    markdown = ftops(project, "plan", "--format", "markdown", "--detailed-exitcode", "-o", "plan.ftplan")
    assert markdown.exit_code == 2, markdown.output
    assert "<!-- ftops-plan -->" in markdown.stdout and (project / "plan.ftplan").is_file()

    # Merge: apply and wait for the training; the lock file records it.
    applied = ftops(project, "apply", "--auto-approve", "--wait")
    assert applied.exit_code == 0, applied.output
    lock = json.loads((project / "ftops.lock").read_text())
    first_job = lock["resources"]["job.assistant-v1"]["remote_id"]
    first_model = lock["resources"]["job.assistant-v1"]["fine_tuned_model"]
    assert first_model and first_model.startswith("ft:")

    # Nothing left to do.
    again = ftops(project, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stdout

    models = json_out(ftops(project, "models", "--format", "json"))["models"]
    assert [(m["id"], m["name"], m["state"]) for m in models] == [(first_model, "Acme support assistant", "active")]
    assert models[0]["address"] == "model.assistant"

    # A second pull request changes a hyperparameter: the job is replaced, with its cost shown up front.
    jobs_yaml = project / "manifests" / "jobs.yaml"
    jobs_yaml.write_text(jobs_yaml.read_text().replace("learning_rate: 0.0001", "learning_rate: 0.00005"))
    doc = json_out(ftops(project, "plan", "--format", "json"))
    job_change = next(c for c in doc["resource_changes"] if c["address"] == "job.assistant-v1")
    assert "replace" in job_change["actions"]
    assert job_change["replaced_remote_id"] == first_job
    assert any("learning_rate" in p for p in job_change["replace_paths"])
    text = ftops(project, "plan", "--detailed-exitcode")
    assert text.exit_code == 2
    assert "forces replacement" in text.stdout and "Estimated training cost: $" in text.stdout

    # Merge: apply --wait trains the new job and promotes its model.
    applied = ftops(project, "apply", "--auto-approve", "--wait")
    assert applied.exit_code == 0, applied.output
    lock = json.loads((project / "ftops.lock").read_text())
    new_model = lock["resources"]["job.assistant-v1"]["fine_tuned_model"]
    assert new_model and new_model != first_model

    every = {m["id"]: m for m in json_out(ftops(project, "models", "--all", "--format", "json"))["models"]}
    assert every[new_model]["name"] == "Acme support assistant" and every[new_model]["state"] == "active"
    assert every[first_model]["state"] == "archived"
    active = json_out(ftops(project, "models", "--format", "json"))["models"]
    assert [m["id"] for m in active] == [new_model]

    board = json_out(ftops(project, "jobs", "--format", "json"))
    assert board["counts"].get("SUCCESS") == 2 and board["active"] == 0
    assert ftops(project, "plan", "--detailed-exitcode").exit_code == 0

    # Nothing secret-looking was written next to the manifests.
    committed = (project / "ftops.lock").read_text()
    assert not any(s in committed for s in SECRET_LOOKING)


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("example", ["sweep", "promotion"])
def test_examples_validate(example: str) -> None:
    result = ftops(REPO / "examples" / example, "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Valid: 2 files")


def test_sweep_split_is_reproducible_and_the_matrix_expands(tmp_path: Path) -> None:
    sweep = REPO / "examples" / "sweep"
    split = ftops(sweep, "data", "split", "data/helpdesk.jsonl", "--eval-fraction", "0.2", "--seed", "7",
                  "--train", str(tmp_path / "train.jsonl"), "--eval", str(tmp_path / "eval.jsonl"))
    assert split.exit_code == 0, split.output
    for part in ("train", "eval"):
        assert (tmp_path / f"{part}.jsonl").read_bytes() == (sweep / "data" / f"{part}.jsonl").read_bytes()

    project = tmp_path / "sweep"
    shutil.copytree(sweep, project, ignore=shutil.ignore_patterns(".ftops", "ftops.lock"))
    doc = json_out(ftops(project, "plan", "--format", "json"))
    creates = [c for c in doc["resource_changes"] if c["kind"] == "job" and "create" in c["actions"]]
    assert sorted(c["address"] for c in creates) == [f"job.helpdesk-{i}" for i in range(1, 5)]
    suffixes = {c["after"]["spec"]["suffix"] for c in creates}
    assert suffixes == {f"helpdesk-{i}" for i in range(1, 5)}
