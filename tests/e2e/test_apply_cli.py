"""`ftops apply` end to end against the real local API over HTTP (embedded server in the test process)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apply_project import SECRET_KEY, admin, api_env, list_all, make_project, run_cli
from click.testing import CliRunner

from ftops.cli import cli
from ftops.localapi.embedded import EmbeddedServer, start_embedded


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    with start_embedded(tmp_path / "api", api_key=SECRET_KEY, speed=1000.0) as srv:
        yield srv


def test_apply_creates_everything_then_second_apply_sends_no_write(
    tmp_path: Path, server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "proj")
    first = run_cli(root, server.url, "apply", "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("Using the Mistral API at http://127.0.0.1:")
    assert "Apply finished: 4 done." in first.stdout
    lock = json.loads((root / "ftops.lock").read_text())
    assert sorted(lock["resources"]) == ["file.train", "file.valid", "job.support-a", "job.support-b"]
    assert lock["intents"] == []
    assert len(list_all(server.url, "files")) == 2
    jobs = list_all(server.url, "jobs")
    assert len(jobs) == 2 and all(not j["auto_start"] for j in jobs)

    # Second apply, in-process so every HTTP request can be counted by method.
    seen: Counter[str] = Counter()
    original = httpx.Client.send

    def counting_send(self: httpx.Client, request: httpx.Request, **kw: object) -> httpx.Response:
        seen[request.method] += 1
        return original(self, request, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx.Client, "send", counting_send)
    for key, value in api_env(server.url).items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli, ["-C", str(root), "apply", "--auto-approve"])
    assert result.exit_code == 0, result.output
    assert "No changes." in result.output
    assert seen["GET"] >= 1
    assert {m for m in seen if m != "GET"} == set(), seen
    # The lock changed only to record what was observed (the jobs moved on by themselves), nothing else.
    after = json.loads((root / "ftops.lock").read_text())
    live = {j["id"]: j["status"] for j in list_all(server.url, "jobs")}
    for address in ("job.support-a", "job.support-b"):
        entry = after["resources"][address]
        assert entry["remote_id"] == lock["resources"][address]["remote_id"]
        assert entry["status"] == live[entry["remote_id"]]
    assert {k: {f: v for f, v in e.items() if f != "status"} for k, e in after["resources"].items()} == \
        {k: {f: v for f, v in e.items() if f != "status"} for k, e in lock["resources"].items()}
    # A third apply with nothing new observed leaves the lock as it is.
    serial = after["serial"]
    again = CliRunner().invoke(cli, ["-C", str(root), "apply", "--auto-approve"])
    assert again.exit_code == 0, again.output
    now = {j["id"]: j["status"] for j in list_all(server.url, "jobs")}
    if now == live:
        assert json.loads((root / "ftops.lock").read_text())["serial"] == serial


def test_apply_starts_and_waits_then_names_the_model(tmp_path: Path, server: EmbeddedServer) -> None:
    extra = """---
apiVersion: ftops/v1
kind: Model
metadata: {name: support}
spec: {job: support-a, name: Support assistant, description: Answers password questions}
"""
    root = make_project(tmp_path / "proj", state_a="started", extra=extra)
    out = run_cli(root, server.url, "apply", "--auto-approve", "--wait", "--timeout", "60", timeout=90)
    assert out.returncode == 0, out.stdout + out.stderr
    lock = json.loads((root / "ftops.lock").read_text())
    job = lock["resources"]["job.support-a"]
    assert job["status"] == "SUCCESS" and job["fine_tuned_model"].startswith("ft:")
    model = lock["resources"]["model.support"]
    assert model["remote_id"] == job["fine_tuned_model"]
    card = admin(server.url, "GET", f"/v1/models/{model['remote_id']}")
    assert card["name"] == "Support assistant"
    again = run_cli(root, server.url, "apply", "--auto-approve")
    assert again.returncode == 0 and "No changes." in again.stdout, again.stdout + again.stderr


def test_apply_without_tty_or_approval_refuses(tmp_path: Path, server: EmbeddedServer) -> None:
    root = make_project(tmp_path / "proj")
    out = run_cli(root, server.url, "apply")
    assert out.returncode == 1
    assert "--auto-approve" in out.stderr and "Traceback" not in out.stderr
    assert not (root / "ftops.lock").exists()
    assert list_all(server.url, "files") == []


def test_missing_wandb_key_fails_before_any_write(tmp_path: Path, server: EmbeddedServer) -> None:
    root = make_project(tmp_path / "proj")
    manifest = root / "manifests" / "project.yaml"
    wandb = "  integrations: [{project: p, api_key_env: FTOPS_TEST_WANDB}]\n"
    manifest.write_text(manifest.read_text().replace("  state: created\n---", f"  state: created\n{wandb}---", 1))
    out = run_cli(root, server.url, "apply", "--auto-approve")
    assert out.returncode == 1, out.stdout
    assert "FTOPS_TEST_WANDB" in out.stderr and "job.support-a" in out.stderr
    assert list_all(server.url, "files") == [] and list_all(server.url, "jobs") == []


def test_saved_plan_applies_once(tmp_path: Path, server: EmbeddedServer) -> None:
    root = make_project(tmp_path / "proj")
    planned = run_cli(root, server.url, "plan", "-o", "plan.json")
    if planned.returncode not in (0, 2) or not (root / "plan.json").exists():
        pytest.skip(f"ftops plan -o is not available yet: {planned.stderr.strip()[:200]}")
    first = run_cli(root, server.url, "apply", "plan.json")
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_cli(root, server.url, "apply", "plan.json")
    assert second.returncode == 1
    assert "already applied" in second.stderr or "stale" in second.stderr or "lock file" in second.stderr
    assert len(list_all(server.url, "jobs")) == 2


def test_status_lists_tracked_resources(tmp_path: Path, server: EmbeddedServer) -> None:
    root = make_project(tmp_path / "proj")
    assert run_cli(root, server.url, "apply", "--auto-approve").returncode == 0
    out = run_cli(root, server.url, "status", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = {r["address"]: r for r in json.loads(out.stdout)["resources"]}
    assert set(rows) == {"file.train", "file.valid", "job.support-a", "job.support-b"}
    assert rows["file.train"]["status"] == "uploaded"
    text = run_cli(root, server.url, "status")
    assert "job.support-b" in text.stdout and text.stdout.splitlines()[0].startswith("Using ")


def test_import_adopts_a_job_and_refuses_a_wrong_kind(tmp_path: Path, server: EmbeddedServer) -> None:
    root = make_project(tmp_path / "proj")
    assert run_cli(root, server.url, "apply", "--auto-approve").returncode == 0
    lock = json.loads((root / "ftops.lock").read_text())
    job_id = lock["resources"]["job.support-a"]["remote_id"]
    file_id = lock["resources"]["file.train"]["remote_id"]
    wrong = run_cli(root, server.url, "import", "job.support-a", file_id)
    assert wrong.returncode == 1 and "no job with id" in wrong.stderr
    ok = run_cli(root, server.url, "import", "job.support-a", job_id)
    assert ok.returncode == 0, ok.stderr
    assert "Warning" not in ok.stderr
