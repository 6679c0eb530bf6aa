"""The lock merge driver with real git: two branches each apply one job against one API, then merge.

Without the driver git conflicts on ftops.lock (the story of issue 9); with it (``ftops init`` /
``ftops state install-merge-driver``) the merge is clean, the lock tracks both jobs, and ``ftops plan`` has
nothing to do: no second paid job.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_project import SECRET_KEY, list_all, make_project, run_cli
from click.testing import CliRunner

from ftops.cli import cli
from ftops.localapi.embedded import EmbeddedServer, start_embedded

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

JOB = """\
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {{name: {name}}}
spec:
  model: open-mistral-7b
  training_files: [{{file: train}}]
  hyperparameters: {{training_steps: {steps}}}
  state: created
"""


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    with start_embedded(tmp_path / "api", api_key=SECRET_KEY, speed=1000.0) as srv:
        yield srv


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                            capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def _project(tmp_path: Path, url: str) -> Path:
    root = make_project(tmp_path / "proj")
    (root / "manifests" / "project.yaml").write_text(
        "\n---\n".join((root / "manifests" / "project.yaml").read_text().split("\n---\n")[:2]) + "\n")
    (root / ".gitignore").write_text(".ftops/\n")
    git(root, "init", "-q", "-b", "main")
    assert run_cli(root, url, "apply", "--auto-approve").returncode == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "files")
    return root


def _branch_applies(root: Path, url: str, branch: str, name: str, steps: int) -> None:
    git(root, "checkout", "-q", "-b", branch, "main")
    (root / "manifests" / f"{name}.yaml").write_text(JOB.format(name=name, steps=steps))
    applied = run_cli(root, url, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    git(root, "add", "-A")
    git(root, "commit", "-qm", f"add {name}")


def test_two_branches_merge_into_one_lock_and_plan_has_nothing_to_do(tmp_path: Path, server: EmbeddedServer) -> None:
    root = _project(tmp_path, server.url)
    _branch_applies(root, server.url, "a", "job-a", 2)
    _branch_applies(root, server.url, "b", "job-b", 3)
    ours = json.loads((root / "ftops.lock").read_text())
    git(root, "checkout", "-q", "a")
    # Without the driver: git's line merge conflicts on ftops.lock (the story of issue 9).
    assert git(root, "merge", "--no-edit", "b", check=False).returncode != 0
    git(root, "merge", "--abort")

    installed = run_cli(root, server.url, "state", "install-merge-driver")
    assert installed.returncode == 0, installed.stderr
    assert "Registered the merge driver" in installed.stdout
    git(root, "add", ".gitattributes")
    git(root, "commit", "-qm", "merge driver")
    merged = git(root, "merge", "--no-edit", "b", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "<<<<<<<" not in (root / "ftops.lock").read_text()
    lock = json.loads((root / "ftops.lock").read_text())
    assert set(lock["resources"]) == {"job.job-a", "job.job-b", "file.train", "file.valid"}
    assert lock["serial"] == ours["serial"] + 1  # both branches wrote the same number of times: max + 1

    plan = run_cli(root, server.url, "plan", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "No changes" in plan.stdout
    assert len(list_all(server.url, "jobs")) == 2

    # Another lineage is not a version of this lock: the driver exits 1 and leaves OURS byte-identical.
    other = dict(lock, lineage="00000000-0000-4000-8000-000000000000")
    theirs = tmp_path / "theirs.lock"
    theirs.write_text(json.dumps(other))
    before = (root / "ftops.lock").read_text()
    refused = CliRunner().invoke(cli, ["state", "merge-driver", "/dev/null", str(root / "ftops.lock"), str(theirs)])
    assert refused.exit_code == 1
    assert "different lock files" in refused.output
    assert (root / "ftops.lock").read_text() == before


def test_init_registers_the_driver_in_a_git_repository(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "proj")])
    assert result.exit_code == 0, result.output
    assert "Registered the ftops.lock merge driver" in result.output
    assert "ftops.lock merge=ftops-lock" in (tmp_path / "proj" / ".gitattributes").read_text().splitlines()
    driver = git(tmp_path, "config", "merge.ftops-lock.driver").stdout
    assert "-m ftops.state.mergedriver %O %A %B %P" in driver
