"""examples/together end to end on the embedded local API (which speaks Together): plan → apply --wait → status.

Also the provider seam as a user meets it: the plan prices the job from Together's rows of the rate table,
a Mistral field on a Together job is refused with the Together equivalent as the hint, and moving a job from
Mistral to Together plans a replacement priced by the new provider.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ftops.cli import cli

REPO = Path(__file__).resolve().parents[2]
ENV = {"CI": "true", "FTOPS_LOCAL_SPEED": "100000", "FTOPS_ENDPOINT": "", "MISTRAL_API_KEY": "",
       "TOGETHER_API_KEY": ""}


@pytest.fixture(autouse=True)
def _restore_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path.cwd())


def ftops(project: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["-C", str(project), *args], env=ENV)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "together"
    shutil.copytree(REPO / "examples" / "together", dest, ignore=shutil.ignore_patterns(".ftops", "ftops.lock"))
    return dest


@pytest.mark.timeout(120)
def test_example_plan_apply_wait_status(project: Path) -> None:
    plan = ftops(project, "plan", "--detailed-exitcode", "--format", "json")
    assert plan.exit_code == 2, plan.output
    doc = json.loads(plan.stdout)
    creates = [c for c in doc["resource_changes"] if c["address"] == "job.helpdesk" and c["actions"] == ["create"]]
    assert creates and creates[0]["after"]["spec"]["provider"] == "together"
    # Priced from Together's rows: (1,489 data tokens x 2 epochs) x $0.48 per million (LoRA SFT, up to 16B).
    assert creates[0]["cost"]["train_tokens"] == 2 * creates[0]["cost"]["data_tokens"]
    assert creates[0]["cost"]["cost"] == pytest.approx(creates[0]["cost"]["train_tokens"] * 0.48 / 1e6, abs=1e-4)
    text = ftops(project, "plan")
    assert "embedded local API at http://127.0.0.1:" in text.stdout and "/together" in text.stdout
    assert "job.helpdesk will be created (on together a created job trains at once" in text.stdout
    assert "parks in VALIDATED" not in text.stdout

    applied = ftops(project, "apply", "--auto-approve", "--wait")
    assert applied.exit_code == 0, applied.output
    lock = json.loads((project / "ftops.lock").read_text())
    job = lock["resources"]["job.helpdesk"]
    assert job["remote_id"].startswith("ft-") and job["status"] == "SUCCESS"
    assert job["attributes"]["cost"] > 0  # the API's own estimate, recorded at creation
    assert lock["resources"]["file.helpdesk-train"]["remote_id"].startswith("file-")

    status = ftops(project, "status")
    assert status.exit_code == 0 and "SUCCESS" in status.stdout and job["remote_id"] in status.stdout
    again = ftops(project, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_mistral_field_on_a_together_job_is_refused_with_a_hint(project: Path) -> None:
    jobs = project / "manifests" / "jobs.yaml"
    jobs.write_text(jobs.read_text().replace("n_epochs: 2", "epochs: 2"))
    result = ftops(project, "validate")
    assert result.exit_code == 1
    assert "M100" in result.output and "hyperparameters.epochs is not a together field" in result.output
    assert "use n_epochs on together" in result.output and "jobs.yaml:" in result.output


def test_together_rejects_what_it_cannot_do(project: Path) -> None:
    jobs = project / "manifests" / "jobs.yaml"
    jobs.write_text(jobs.read_text().replace("state: started", "state: created")
                    .replace("    - file: helpdesk-train\n", "    - file: helpdesk-train\n    - file: helpdesk-eval\n"))
    result = ftops(project, "validate")
    assert result.exit_code == 1
    assert "state: created is not possible on together" in result.output
    assert "a Together job trains on exactly one file" in result.output


def test_a_job_cannot_name_another_provider_than_the_project(project: Path) -> None:
    jobs = project / "manifests" / "jobs.yaml"
    jobs.write_text(jobs.read_text().replace("spec:\n  model:", "spec:\n  provider: mistral\n  model:"))
    result = ftops(project, "validate")
    assert result.exit_code == 1 and "this project runs on together; job provider mistral differs" in result.output


@pytest.mark.timeout(120)
def test_moving_a_project_to_together_recreates_the_job_there(project: Path) -> None:
    toml = project / "ftops.toml"
    together_toml = toml.read_text()
    toml.write_text('manifests = "manifests"\nlock = "ftops.lock"\nendpoint = "local"\n')
    jobs = project / "manifests" / "jobs.yaml"
    together_jobs = jobs.read_text()
    head, _, _ = together_jobs.replace("meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
                                       "open-mistral-7b").partition("  hyperparameters:")
    jobs.write_text(head + "  hyperparameters:\n    epochs: 2\n  state: started\n")
    assert ftops(project, "apply", "--auto-approve", "--wait").exit_code == 0
    before = json.loads((project / "ftops.lock").read_text())["resources"]
    old_job, old_file = before["job.helpdesk"]["remote_id"], before["file.helpdesk-train"]["remote_id"]

    # The move: the project names its new provider, the job Together's model and fields.
    toml.write_text(together_toml)
    jobs.write_text(together_jobs)
    plan = json.loads(ftops(project, "plan", "--format", "json").stdout)
    changes = {(c["address"], c["actions"][0]): c for c in plan["resource_changes"]}
    job = changes["job.helpdesk", "create"]
    assert job["actions"] == ["create"] and job["after"]["spec"]["provider"] == "together", job
    assert job["reasons"][0] == (f"moved from mistral to together: a new job is created there (the job {old_job} "
                                 "stays on mistral, no longer tracked)")
    assert job["reasons"][1] == "on together a created job trains at once: creating it is the billed step"
    assert job["cost"]["cost"] == pytest.approx(job["cost"]["train_tokens"] * 0.48 / 1e6, abs=1e-4)
    assert ("file.helpdesk-train", "upload") in changes  # by content hash, to Together

    assert ftops(project, "apply", "--auto-approve", "--wait").exit_code == 0
    after = json.loads((project / "ftops.lock").read_text())["resources"]
    assert after["job.helpdesk"]["remote_id"].startswith("ft-") and after["job.helpdesk"]["status"] == "SUCCESS"
    assert after["file.helpdesk-train"]["remote_id"].startswith("file-") and old_file != after[
        "file.helpdesk-train"]["remote_id"]
    assert after["file.helpdesk-train"]["fingerprint"] == before["file.helpdesk-train"]["fingerprint"]
    assert ftops(project, "plan", "--detailed-exitcode").exit_code == 0
