"""``ftops models`` and ``ftops jobs`` against the real embedded local API (seeded over HTTP by the client)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from ftops.cli import cli
from ftops.client import MistralClient
from ftops.localapi.embedded import start_embedded

GOOD = '{"messages": [{"role": "user", "content": "Hi %d"}, {"role": "assistant", "content": "Hello %d!"}]}\n'
BAD = '{"messages": [{"role": "user", "content": "no answer"}]}\n'


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project whose embedded API holds: a finished job (+ model), an older one (archived), a failed, a parked."""
    for var in ("FTOPS_ENDPOINT", "MISTRAL_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text("".join(GOOD % (i, i) for i in range(12)))
    bad.write_text(BAD * 12)
    with start_embedded(tmp_path / ".ftops" / "localapi") as server, MistralClient(server.url, server.api_key) as c:
        good_file = c.upload_file(good, filename="good.jsonl")
        bad_file = c.upload_file(bad, filename="bad.jsonl")

        def create(file_id: str, suffix: str) -> str:
            body = {"model": "open-mistral-7b", "training_files": [{"file_id": file_id, "weight": 1}],
                    "hyperparameters": {"training_steps": 2}, "suffix": suffix}
            return c.create_job(body).id

        done, older, failed, parked = (create(good_file.id, "done"), create(good_file.id, "older"),
                                       create(bad_file.id, "broken"), create(good_file.id, "parked"))
        httpx.post(f"{server.url}/_ftops/clock/advance", json={"seconds": 120},
                   headers={"Authorization": f"Bearer {server.api_key}"}, timeout=10).raise_for_status()
        c.start_job(done)
        c.start_job(older)
        httpx.post(f"{server.url}/_ftops/clock/advance", json={"seconds": 86_400},
                   headers={"Authorization": f"Bearer {server.api_key}"}, timeout=10).raise_for_status()
        old_model = c.get_job(older).fine_tuned_model
        assert old_model and c.get_job(done).fine_tuned_model
        c.update_model(old_model, name="previous")
        c.archive_model(old_model)
        assert c.get_job(failed).status == "FAILED_VALIDATION"
        assert c.get_job(parked).status == "VALIDATED"
    yield tmp_path


def run(*args: str) -> Result:
    # The embedded API on purpose: in CI an endpoint nobody configured is refused.
    result = CliRunner().invoke(cli, list(args), env={"CI": "true", "FTOPS_ENDPOINT": "local"})
    assert "Traceback" not in result.output
    return result


def test_jobs_json_counts_statuses_and_reports_the_failure(project: Path) -> None:
    result = run("jobs", "--format", "json")
    assert result.exit_code == 0, result.output
    board = json.loads(result.stdout)
    assert board["endpoint"] == "local"
    assert board["counts"] == {"FAILED_VALIDATION": 1, "SUCCESS": 2, "VALIDATED": 1}
    assert board["total"] == 4 and board["active"] == 1
    rows = {r["suffix"]: r for r in board["rows"]}
    assert rows["broken"]["error"]  # the API's validation message, not an empty cell
    assert rows["done"]["fine_tuned_model"].startswith("ft:")
    assert rows["done"]["cost"] and rows["done"]["cost"] >= 4.0
    assert board["spent"] == pytest.approx(rows["done"]["cost"] + rows["older"]["cost"])


def test_jobs_text_names_the_endpoint_first_and_honours_limit(project: Path) -> None:
    result = run("jobs", "--limit", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Using the embedded local API at http://127.0.0.1:")
    assert lines[1].startswith("Jobs: 4 total, 1 active (FAILED_VALIDATION 1, SUCCESS 2, VALIDATED 1)")
    assert "Latest 2 jobs" in result.stdout
    assert "\x1b[" not in result.stdout  # CI=true: no colours


def test_models_hides_archived_unless_all(project: Path) -> None:
    result = run("models", "--format", "json")
    assert result.exit_code == 0, result.output
    active = json.loads(result.stdout)["models"]
    assert [m["state"] for m in active] == ["active"]
    assert active[0]["base_model"] == "open-mistral-7b" and active[0]["job"]

    every = json.loads(run("models", "--all", "--format", "json").stdout)["models"]
    assert sorted(m["state"] for m in every) == ["active", "archived"]
    assert {m["name"] for m in every if m["state"] == "archived"} == {"previous"}

    text = run("models", "--all")
    assert text.stdout.splitlines()[0].startswith("Using the embedded local API")
    assert "archived" in text.stdout and "previous" in text.stdout
