"""`ftops state list|show|rm|mv`, `ftops import`, `ftops show PLANFILE`, Moved renames and `ftops wait`,
in-process against the embedded local API over real HTTP (one applied project per test)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apply_project import SECRET_KEY, api_env, list_all, make_project
from click.testing import CliRunner, Result

from ftops.cli import cli
from ftops.localapi.embedded import EmbeddedServer, start_embedded


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    with start_embedded(tmp_path / "api", api_key=SECRET_KEY, speed=1000.0) as srv:
        yield srv


@pytest.fixture()
def root(tmp_path: Path, server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in api_env(server.url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    project = make_project(tmp_path / "proj")
    assert ftops(project, "apply", "--auto-approve").exit_code == 0
    return project


def ftops(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), *args])


def lock_of(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((root / "ftops.lock").read_text())
    return data


def resources(root: Path) -> dict[str, dict[str, object]]:
    value = lock_of(root)["resources"]
    assert isinstance(value, dict)
    return value


def plan_text(root: Path) -> str:
    result = ftops(root, "plan")
    assert result.exit_code == 0, result.output
    return result.output


def test_state_list_show_rm_mv(root: Path, server: EmbeddedServer) -> None:
    listed = ftops(root, "state", "list")
    assert listed.exit_code == 0
    job_id = str(resources(root)["job.support-a"]["remote_id"])
    assert any(line.split()[:3] == ["job.support-a", "job", job_id] for line in listed.output.splitlines())
    shown = json.loads(ftops(root, "state", "show", "job.support-a", "--format", "json").output)
    assert shown["remote_id"] == job_id and shown["attributes"]["fingerprint_input"]["suffix"] == "support-a"

    serial = lock_of(root)["serial"]
    moved = ftops(root, "state", "mv", "job.support-a", "job.support-b")
    assert moved.exit_code == 1 and "already tracked" in moved.output
    kind = ftops(root, "state", "mv", "job.support-a", "file.x")
    assert kind.exit_code == 1 and "keeps its kind" in kind.output
    assert lock_of(root)["serial"] == serial  # refusals write nothing

    forgot = ftops(root, "state", "rm", "job.support-a")
    assert forgot.exit_code == 0
    assert f"The remote job {job_id} was not touched" in forgot.output
    assert "job.support-a" not in resources(root) and lock_of(root)["serial"] == serial + 1
    assert any(j["id"] == job_id and j["status"] != "CANCELLED" for j in list_all(server.url, "jobs"))
    missing = ftops(root, "state", "show", "job.support-a")
    assert missing.exit_code == 1 and "not tracked" in missing.output


def test_import_fingerprints_the_live_job_and_refuses_to_track_twice(root: Path, server: EmbeddedServer) -> None:
    job_id = str(resources(root)["job.support-a"]["remote_id"])
    other_id = str(resources(root)["job.support-b"]["remote_id"])
    assert ftops(root, "state", "rm", "job.support-a", "file.train").exit_code == 0
    manifest = root / "manifests" / "project.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("training_steps: 2,", "training_steps: 5,"))

    [train_id] = [f["id"] for f in list_all(server.url, "files") if f["filename"].startswith("train.")]
    assert ftops(root, "import", "file.train", train_id).exit_code == 0
    imported = ftops(root, "import", "job.support-a", job_id)
    assert imported.exit_code == 0, imported.output
    assert "differs from the manifest in: hyperparameters.training_steps" in imported.output
    assert resources(root)["job.support-a"]["fingerprint"] != "imported"
    assert '~ hyperparameters.training_steps = 2 -> 5  # forces replacement' in plan_text(root)

    manifest.write_text(text)  # the manifest fixed to match the live job: nothing left to do
    assert "No changes." in plan_text(root)

    twice = ftops(root, "import", "job.support-b", job_id)
    assert twice.exit_code == 1 and f"already tracks job {other_id}" in twice.output
    forced = ftops(root, "import", "job.support-b", job_id, "--force")
    assert forced.exit_code == 0, forced.output
    assert f"job.support-b tracked {other_id} until now" in forced.output
    assert "job.support-a no longer tracks" in forced.output
    assert "job.support-a" not in resources(root)


def test_import_hashes_an_upload_ftops_did_not_name(root: Path, server: EmbeddedServer) -> None:
    data = (root / "data" / "train.jsonl").read_bytes()
    response = httpx.post(f"{server.url}/v1/files", headers={"Authorization": f"Bearer {SECRET_KEY}"},
                          data={"purpose": "fine-tune"}, files={"file": ("by-hand.jsonl", data)}, timeout=10)
    response.raise_for_status()
    foreign = response.json()["id"]
    refused = ftops(root, "import", "file.train", foreign)
    assert refused.exit_code == 1 and "already tracks file" in refused.output
    forced = ftops(root, "import", "file.train", foreign, "--force")
    assert forced.exit_code == 0, forced.output
    assert resources(root)["file.train"]["fingerprint"] == hashlib.sha256(data).hexdigest()
    assert "No changes." in plan_text(root)  # same content: nothing to upload, no job replaced


def test_a_declared_rename_moves_the_address_and_pays_nothing(root: Path, server: EmbeddedServer) -> None:
    manifest = root / "manifests" / "project.yaml"
    text = manifest.read_text()
    renamed = text.replace("metadata: {name: support-a}", "metadata: {name: support-v2}").replace(
        "  hyperparameters: {training_steps: 2, learning_rate: 0.0001}\n",
        "  hyperparameters: {training_steps: 2, learning_rate: 0.0001}\n  suffix: support-a\n")
    manifest.write_text(renamed + "---\napiVersion: ftops/v1\nkind: Moved\nmetadata: {name: rename}\n"
                        "spec: {from: job.support-a, to: job.support-v2}\n")
    saved = ftops(root, "plan", "-o", "plan.json")
    assert saved.exit_code == 0, saved.output
    assert '→ job "support-v2"' in saved.output and "Plan: 1 to move." in saved.output
    shown = ftops(root, "show", str(root / "plan.json"), "--format", "json")
    assert json.loads(shown.output)["resource_changes"][0]["actions"] == ["move"]
    assert "| `→` | `job.support-v2` | move |" in ftops(root, "show", str(root / "plan.json"), "--format",
                                                       "markdown").output
    job_id = resources(root)["job.support-a"]["remote_id"]
    applied = ftops(root, "apply", str(root / "plan.json"))
    assert applied.exit_code == 0, applied.output
    assert resources(root)["job.support-v2"]["remote_id"] == job_id and "job.support-a" not in resources(root)
    assert "No changes." in plan_text(root)
    assert len(list_all(server.url, "jobs")) == 2  # no new job


def test_wait_skips_parked_jobs_and_returns_at_once(root: Path) -> None:
    result = ftops(root, "wait", "--timeout", "5")
    assert result.exit_code == 0, result.output
    assert "No queued, validating or training jobs to wait for." in result.output
    skipped = [line for line in result.output.splitlines() if line.startswith("Skipping ")]
    assert len(skipped) == 2 and all("parked in VALIDATED" in line for line in skipped)

    manifest = root / "manifests" / "project.yaml"
    manifest.write_text(manifest.read_text().replace("state: created", "state: started", 1))  # support-a only
    assert ftops(root, "apply", "--auto-approve").exit_code == 0
    followed = ftops(root, "wait", "--timeout", "60")
    assert followed.exit_code == 0, followed.output
    assert "Skipping job.support-b" in followed.output and "Skipping job.support-a" not in followed.output
    assert "job.support-a: SUCCESS → ft:" in followed.output
    assert resources(root)["job.support-a"]["status"] == "SUCCESS"
