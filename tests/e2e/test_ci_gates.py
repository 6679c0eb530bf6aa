"""The two gates the generated workflow relies on, through the real CLI and the embedded local API.

- In CI with no endpoint configured, ftops refuses to start an empty embedded API (a fresh runner's would
  make a committed lock look deleted outside ftops) — unless the project says ``endpoint = "local"``.
- ``ftops compare-plans REVIEWED FRESH``: exit 0 only when the fresh plan makes the same changes at the same
  cost as the reviewed one; otherwise exit 1 naming each difference.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ftops.cli import cli
from tests.e2e.apply_project import make_project

NO_ENDPOINT = {"FTOPS_ENDPOINT": "", "FTOPS_ENV": "", "MISTRAL_API_KEY": "", "NO_COLOR": "1",
               "FTOPS_LOCAL_SPEED": "100000"}


@pytest.fixture(autouse=True)
def _restore_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path.cwd())


def run(root: Path, *args: str, ci: bool = False, **env: str) -> Result:
    result = CliRunner().invoke(cli, ["-C", str(root), *args], env={**NO_ENDPOINT, "CI": "true" if ci else "",
                                                                     **env})
    assert "Traceback" not in result.output
    return result


def test_ci_without_an_endpoint_is_an_error_not_an_empty_embedded_api(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    refused = run(root, "plan", ci=True)
    assert refused.exit_code == 1
    assert "no API endpoint is configured" in refused.output
    assert "FTOPS_ENDPOINT" in refused.output and "MISTRAL_API_KEY" in refused.output
    assert 'endpoint = "local"' in refused.output
    assert not (root / ".ftops" / "localapi").exists()  # no embedded API was started
    apply = run(root, "apply", "--auto-approve", ci=True)
    assert apply.exit_code == 1 and "no API endpoint is configured" in apply.output

    # Off CI the embedded API stays the friendly default; in CI, choosing it explicitly works too.
    assert run(root, "plan").exit_code == 0
    assert run(root, "plan", ci=True, FTOPS_ENDPOINT="local").exit_code == 0
    (root / "ftops.toml").write_text('endpoint = "local"\n')
    chosen = run(root, "plan", ci=True)
    assert chosen.exit_code == 0, chosen.output
    assert chosen.output.startswith("Using the embedded local API")


def test_compare_plans_accepts_the_same_plan_and_names_every_difference(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", state_a="started")
    reviewed, again, changed = root / "reviewed.ftplan", root / "again.ftplan", root / "changed.ftplan"
    assert run(root, "plan", "-o", str(reviewed)).exit_code == 0
    assert run(root, "plan", "-o", str(again)).exit_code == 0

    same = run(root, "compare-plans", str(reviewed), str(again))
    assert same.exit_code == 0, same.output
    assert "The fresh plan is the reviewed plan: 5 changes, training cost $4.00." in same.output

    # After review, someone changes the training of job a (more steps: a different, dearer job) and adds one.
    manifest = root / "manifests" / "project.yaml"
    text = manifest.read_text().replace("training_steps: 2,", "training_steps: 20,")
    manifest.write_text(text + "---\napiVersion: ftops/v1\nkind: FineTuningJob\nmetadata: {name: extra}\n"
                        "spec: {model: open-mistral-7b, training_files: [{file: train}], state: created}\n")
    assert run(root, "plan", "-o", str(changed)).exit_code == 0
    differs = run(root, "compare-plans", str(reviewed), str(changed))
    assert differs.exit_code == 1
    out = differs.output
    assert "job.support-a: create: spec.hyperparameters.training_steps is 20, reviewed 2" in out
    assert "job.support-a: start: costs $5.24, reviewed $4.00" in out
    assert "job.extra: create: not in the reviewed plan" in out
    assert "total training cost" in out and "nothing was applied" in out

    # Nothing was applied by comparing: the lock does not exist yet.
    assert not (root / "ftops.lock").exists()


def test_compare_plans_refuses_a_file_that_is_not_a_plan(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "plan.md").write_text("# a rendering, not a saved plan\n")
    assert run(root, "plan", "-o", str(root / "ok.ftplan")).exit_code == 0
    bad = run(root, "compare-plans", str(root / "plan.md"), str(root / "ok.ftplan"))
    assert bad.exit_code == 1 and "plan.md" in bad.output
