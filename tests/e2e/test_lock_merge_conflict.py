"""The merge-conflict story of issue 9, as a user would live it: two branches each apply one job against the
same API, the lock conflicts on merge, the docs' recovery (`git checkout --theirs -- ftops.lock`, then
`ftops apply`) keeps the other side's job by adopting it. Exactly one job per spec; nothing trains twice."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_project import FILES, ServeProcess, _rows, list_all, run_cli

JOB = """\
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: NAME}
spec:
  model: open-mistral-7b
  training_files: [{file: train}]
  validation_files: [valid]
  hyperparameters: {training_steps: STEPS, learning_rate: 0.0001}
  state: started
"""


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess(tmp_path_factory.mktemp("api"))
    try:
        yield server
    finally:
        server.stop()


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=check,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@x", "HOME": str(root), "PATH": "/usr/bin:/bin"})


def apply_ok(root: Path, url: str) -> str:
    out = run_cli(root, url, "apply", "--auto-approve", timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_merge_conflict_recovery_adopts_the_other_sides_job(serve: ServeProcess, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "manifests").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "data" / "train.jsonl").write_text(_rows(12, "merge-train"))
    (root / "data" / "valid.jsonl").write_text(_rows(4, "merge-valid"))
    (root / "manifests" / "files.yaml").write_text(FILES)
    (root / ".gitignore").write_text(".ftops/\n")
    git(root, "init", "-q", "-b", "main")
    apply_ok(root, serve.url)  # uploads the shared files; the lock's lineage is common to both branches
    git(root, "add", "-A")
    git(root, "commit", "-qm", "files")

    git(root, "checkout", "-q", "-b", "feature-a")
    (root / "manifests" / "a.yaml").write_text(JOB.replace("NAME", "merge-a").replace("STEPS", "2"))
    assert "create" in apply_ok(root, serve.url)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "job a")

    git(root, "checkout", "-q", "main")
    git(root, "checkout", "-q", "-b", "feature-b")
    (root / "manifests" / "b.yaml").write_text(JOB.replace("NAME", "merge-b").replace("STEPS", "3"))
    assert "create" in apply_ok(root, serve.url)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "job b")

    merged = git(root, "merge", "-q", "feature-a", check=False)
    assert merged.returncode != 0 and "ftops.lock" in merged.stdout + merged.stderr  # the lock conflicts
    git(root, "checkout", "--theirs", "--", "ftops.lock")  # the documented recovery: take one side
    git(root, "add", "ftops.lock")
    git(root, "commit", "-qm", "merge")
    jobs_before = {j["id"] for j in list_all(serve.url, "jobs")}

    plan = run_cli(root, serve.url, "plan")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "adopt" in plan.stdout and "+ create" not in plan.stdout.replace("<= adopt", "")
    out = apply_ok(root, serve.url)
    assert "adopted job" in out

    jobs = list_all(serve.url, "jobs")
    assert {j["id"] for j in jobs} == jobs_before  # nothing created, nothing trained twice
    per_suffix = {s: [j for j in jobs if j["suffix"] == s] for s in ("merge-a", "merge-b")}
    assert all(len(v) == 1 for v in per_suffix.values()), per_suffix
    lock = json.loads((root / "ftops.lock").read_text())
    assert lock["resources"]["job.merge-a"]["remote_id"] == per_suffix["merge-a"][0]["id"]
    assert lock["resources"]["job.merge-b"]["remote_id"] == per_suffix["merge-b"][0]["id"]
    replan = run_cli(root, serve.url, "plan", "--detailed-exitcode")
    assert replan.returncode == 0, replan.stdout + replan.stderr
    assert "No changes." in replan.stdout


def test_refresh_rebuilds_a_deleted_lock_from_the_api_without_writing(serve: ServeProcess, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "manifests").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "data" / "train.jsonl").write_text(_rows(12, "refresh-train"))
    (root / "data" / "valid.jsonl").write_text(_rows(4, "refresh-valid"))
    (root / "manifests" / "files.yaml").write_text(FILES + "---\n" + JOB.replace("NAME", "refresh-a")
                                                   .replace("STEPS", "2"))
    apply_ok(root, serve.url)
    before = json.loads((root / "ftops.lock").read_text())["resources"]
    jobs_before = list_all(serve.url, "jobs")
    (root / "ftops.lock").unlink()

    out = run_cli(root, serve.url, "refresh")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 object(s) adopted" in out.stdout and "Nothing was changed on the API" in out.stdout
    after = json.loads((root / "ftops.lock").read_text())["resources"]
    assert {a: r["remote_id"] for a, r in after.items()} == {a: r["remote_id"] for a, r in before.items()}
    assert len(list_all(serve.url, "jobs")) == len(jobs_before)
    replan = run_cli(root, serve.url, "plan", "--detailed-exitcode")
    assert replan.returncode == 0, replan.stdout + replan.stderr
