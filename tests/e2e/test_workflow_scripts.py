"""The generated workflows' shell steps, run as GitHub runs them, against the embedded local API.

Each ``run:`` script is taken from ``examples/github/*.yml`` (= what ``ftops init`` writes) and run with
GitHub's ``bash --noprofile --norc -eo pipefail``, its ``GITHUB_OUTPUT``/``GITHUB_STEP_SUMMARY`` files and the
installed ``ftops`` on PATH: the pull request's plan, the merge's compare-and-apply (and its refusal of an
unreviewed plan), the lock push to a git remote (and the message when the branch refuses it), and the
scheduled reconcile that names a model once its job has finished, followed by a clean drift check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from ftops.cli import cli

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("jq") is None or shutil.which("git") is None,
                                reason="the workflows' scripts need jq and git (both on GitHub's runners)")


def _steps(name: str, job: str) -> dict[str, str]:
    doc: dict[Any, Any] = yaml.safe_load((REPO / "examples" / "github" / name).read_text())
    return {str(s["name"]): str(s["run"]) for s in doc["jobs"][job]["steps"] if "run" in s and "name" in s}


@dataclass
class Runner:
    """One simulated runner workspace: the checkout, GitHub's files, the environment of the workflow."""

    workspace: Path
    tmp: Path

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("FTOPS_", "MISTRAL_", "GITHUB_"))}
        base.update(CI="true", FTOPS_ENDPOINT="local", FTOPS_LOCAL_SPEED="100000", NO_COLOR="1",
                    PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin", GITHUB_OUTPUT=str(self.tmp / "output"),
                    GITHUB_STEP_SUMMARY=str(self.tmp / "summary"), GITHUB_RUN_ID="4242", GITHUB_WORKFLOW="ftops",
                    GITHUB_REF_NAME="main", GITHUB_SHA="0123456789abcdef")
        return {**base, **extra}

    def step(self, script: str, **extra: str) -> subprocess.CompletedProcess[str]:
        for name in ("output", "summary"):
            (self.tmp / name).write_text("")
        path = self.tmp / "step.sh"
        path.write_text(script)
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=self.workspace,
                              env=self.env(**extra), capture_output=True, text=True, timeout=120)

    def output(self) -> dict[str, str]:
        lines = (self.tmp / "output").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}).stdout


@pytest.fixture()
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """`ftops init` pushed to a bare `origin`, checked out as the runner's workspace."""
    monkeypatch.chdir(tmp_path)
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    assert CliRunner().invoke(cli, ["init", str(work)]).exit_code == 0
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "init")
    _git(work, "remote", "add", "origin", str(origin))
    _git(work, "push", "-q", "origin", "main")
    scratch = tmp_path / "runner"
    scratch.mkdir()
    return Runner(work, scratch)


def test_pull_request_plan_then_merge_applies_the_reviewed_plan_and_pushes_the_lock(runner: Runner) -> None:
    pr = _steps("ftops.yml", "plan")
    merge = _steps("ftops.yml", "apply")

    planned = runner.step(pr["Plan"], MISTRAL_API_KEY="")
    assert planned.returncode == 0, planned.stderr
    assert runner.output() == {"exitcode": "2"}
    assert "<!-- ftops-plan -->" in (runner.workspace / "plan.md").read_text()
    # The artifact the merge downloads.
    (runner.workspace / "reviewed").mkdir()
    shutil.move(runner.workspace / "plan.ftplan", runner.workspace / "reviewed" / "plan.ftplan")

    compared = runner.step(merge["Plan again and compare with the reviewed plan"],
                           REVIEWED_SOURCE="the plan of pull request #1 (run 1)")
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert runner.output() == {"exitcode": "2"} and "The fresh plan is the reviewed plan" in compared.stdout
    # A slower clock for the apply, so the job is still training when apply exits (as on the real API).
    applied = runner.step(merge["Apply the reviewed plan (starts the jobs and exits)"], FTOPS_LOCAL_SPEED="300")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "2 waiting for a job" in applied.stdout  # the model's smoke test and its name wait for the job
    assert "--wait" not in merge["Apply the reviewed plan (starts the jobs and exits)"]

    pushed = runner.step(merge["Commit the lock file (file backend)"])
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    message = _git(runner.workspace, "log", "-1", "--format=%s", "origin/main")
    assert message == "ftops: update the lock after apply of 0123456 [skip ci]\n"
    assert "ftops.lock" in _git(runner.workspace, "show", "--name-only", "--format=", "origin/main")

    # The next scheduled run: the job has finished, the model gets its name; then nothing is left or drifted.
    schedule = _steps("ftops-reconcile.yml", "reconcile")
    reconciled = runner.step(schedule["Apply what waited on training (model names, promotions, archives)"])
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert "model.assistant" in reconciled.stdout
    assert "✓ model.assistant: smoke test passed for ft:" in reconciled.stdout  # before it is named
    drift = runner.step(schedule["Check for drift"])
    assert drift.returncode == 0, drift.stderr
    assert runner.output() == {"exitcode": "0", "drifted": "0"}


def test_merge_refuses_a_plan_that_was_not_reviewed(runner: Runner) -> None:
    merge = _steps("ftops.yml", "apply")
    # No reviewed plan at all (a direct push): nothing is applied, the summary says how to approve.
    refused = runner.step(merge["Plan again and compare with the reviewed plan"],
                          REVIEWED_SOURCE="commit 0123456 did not come from a merged pull request")
    assert refused.returncode == 1
    summary = (runner.tmp / "summary").read_text()
    assert "this plan was not reviewed" in summary and "reviewed_run = 4242" in summary
    assert "::error title=Plan changed since review::" in refused.stdout

    # A reviewed plan that differs (the training grew after review): refused with the difference named.
    (runner.workspace / "reviewed").mkdir()
    shutil.move(runner.workspace / "plan.ftplan", runner.workspace / "reviewed" / "plan.ftplan")
    jobs = runner.workspace / "manifests" / "jobs.yaml"
    jobs.write_text(jobs.read_text().replace("training_steps: 10", "training_steps: 40"))
    differs = runner.step(merge["Plan again and compare with the reviewed plan"], REVIEWED_SOURCE="run 1")
    assert differs.returncode == 1
    assert "spec.hyperparameters.training_steps is 40, reviewed 10" in differs.stderr
    assert not (runner.workspace / "ftops.lock").exists()  # nothing was applied


def test_a_protected_branch_gets_told_what_to_do(runner: Runner) -> None:
    hook = runner.workspace.parent / "origin.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch hook declined' >&2\nexit 1\n")
    hook.chmod(0o755)
    (runner.workspace / "ftops.lock").write_text('{"pretend": "a new lock"}\n')
    merge = _steps("ftops.yml", "apply")
    refused = runner.step(merge["Commit the lock file (file backend)"])
    assert refused.returncode == 1
    assert "::error title=Lock file not pushed::" in refused.stdout
    assert "FTOPS_PUSH_TOKEN" in refused.stdout and "PostgreSQL or S3" in refused.stdout


def test_nothing_to_push_without_a_lock_change(runner: Runner) -> None:
    quiet = runner.step(_steps("ftops.yml", "apply")["Commit the lock file (file backend)"])
    assert quiet.returncode == 0 and "No lock file to push" in quiet.stdout
