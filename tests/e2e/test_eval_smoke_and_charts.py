"""The smoke test after every new model and the loss charts of the Markdown plan, on the embedded local API.

Two Models: ``good`` with the default smoke test (the simulated model answers), ``wrong`` with an ``expect``
no answer can match. The plan says both will be smoke-tested; apply names ``good``, refuses to name
``wrong`` (exit 1, the reason in the output and in the lock), and the next plan tries ``wrong`` again. The
Markdown plan charts the finished jobs' loss curves from what apply recorded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from apply_project import SECRET_KEY, admin, api_env
from click.testing import CliRunner, Result
from eval_project import make_eval_project

from ftops.cli import cli
from ftops.localapi.embedded import start_embedded


def _run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), *args], catch_exceptions=False)


def _lock(root: Path) -> dict:
    return json.loads((root / "ftops.lock").read_text())["resources"]


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FTOPS_LOCAL_SPEED", "100000")
    monkeypatch.setenv("FTOPS_ENDPOINT", "local")  # the embedded local API, on purpose (also under CI=true)
    root = make_eval_project(tmp_path)
    manifest = root / "manifests" / "project.yaml"
    manifest.write_text(manifest.read_text().replace(
        "spec: {job: wrong, name: support-wrong}",
        "spec: {job: wrong, name: support-wrong, smoke: {prompt: 'Say hello', expect: '^NEVER$'}}"))
    return root


def test_a_new_model_is_named_only_after_it_answers_its_smoke_test(project: Path) -> None:
    plan = _run(project, "plan")
    assert plan.exit_code == 0, plan.output
    assert plan.output.count("will smoke-test the new model before it is named or promoted") == 2
    assert 'smoke test: a chat: "Say hello", the answer must match /^NEVER$/' in plan.output
    assert "2 to smoke-test" in plan.output

    applied = _run(project, "apply", "--auto-approve", "--wait")
    assert applied.exit_code == 1, applied.output
    out = applied.output
    assert re.search(r"✓ model\.good: smoke test passed for ft:open-mistral-7b:\S+: '.+'", out), out
    assert re.search(r"✗ model\.wrong: smoke test FAILED for ft:open-mistral-7b:\S+: the answer \".+\" does not "
                     r"match expect /\^NEVER\$/", out), out
    assert "- model.wrong: skipped (update) because the smoke test did not pass" in out
    assert "the model is not named or promoted" in out

    lock = _lock(project)
    good, wrong_job = lock["model.good"], lock["job.wrong"]
    assert good["attributes"]["smoke"]["passed"] is True and good["attributes"]["name"] == "support-good"
    assert "model.wrong" not in lock  # never recorded, never named
    failed = wrong_job["attributes"]["smoke"]
    assert failed["passed"] is False and failed["model"] == wrong_job["fine_tuned_model"]
    assert "does not match expect" in failed["reason"]
    shown = _run(project, "show", "job.wrong")
    assert shown.exit_code == 0 and f"Smoke test of {wrong_job['fine_tuned_model']}: FAILED: the answer" in shown.output
    models = json.loads(_run(project, "models", "--all", "--format", "json").stdout)["models"]
    assert {m["id"]: m["name"] for m in models}[wrong_job["fine_tuned_model"]] != "support-wrong"

    # Not skipped, not forgotten: the next plan smoke-tests it again and says how it failed.
    again = _run(project, "plan", "--detailed-exitcode")
    assert again.exit_code == 2, again.output
    assert "# model.wrong" in again.output and "last result: FAILED (the answer" in again.output
    assert "model.good" not in again.output.split("ftops will perform the following actions:")[1]

    # The Markdown plan charts both finished jobs from the curves apply recorded (no GET per job).
    assert {"train_loss"} <= set(lock["job.good"]["attributes"]["curve"])
    markdown = _run(project, "plan", "--format", "markdown")
    assert markdown.exit_code == 0, markdown.output
    [chart] = re.findall(r"```mermaid\n(xychart-beta\n.*?)```", markdown.stdout, flags=re.S)
    assert '    title "jobs · train_loss"' in chart
    assert len(re.findall(r"    line \[[0-9., ]+\]", chart)) == 2
    assert "<sub>line 1: job.wrong, line 2: job.good</sub>" in markdown.stdout  # the job this plan touches first

    # Fix the expectation: the same model passes and is named.
    manifest = project / "manifests" / "project.yaml"
    manifest.write_text(manifest.read_text().replace("expect: '^NEVER$'", "expect: '\\w'"))
    fixed = _run(project, "apply", "--auto-approve")
    assert fixed.exit_code == 0, fixed.output
    assert "✓ model.wrong: smoke test passed" in fixed.output
    assert _lock(project)["model.wrong"]["attributes"]["name"] == "support-wrong"


def test_charts_cost_no_request_at_plan_time_and_one_get_per_job_once(project: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs that finish between two applies: the next apply reads each one's curves once (one detailed GET)
    and smoke-tests its model (one chat); the Markdown plan then charts them with the very requests of a text
    plan."""
    manifest = project / "manifests" / "project.yaml"
    manifest.write_text(manifest.read_text().replace("expect: '^NEVER$'", "expect: '\\w'"))
    with start_embedded(tmp_path / "api", api_key=SECRET_KEY, speed=1.0) as server:
        for key, value in api_env(server.url).items():
            monkeypatch.setenv(key, value)
        started = _run(project, "apply", "--auto-approve")  # real time: the jobs still train when it ends
        assert started.exit_code == 0 and "waits for job.good to finish" in started.output, started.output
        admin(server.url, "POST", "/_ftops/clock/advance", {"seconds": 86400})  # ... and are done now
        seen: list[str] = []
        original = httpx.Client.send

        def counting_send(self: httpx.Client, request: httpx.Request, **kw: object) -> httpx.Response:
            seen.append(f"{request.method} {request.url.path}")
            return original(self, request, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(httpx.Client, "send", counting_send)
        lock = _lock(project)
        details = {f"GET /v1/fine_tuning/jobs/{lock[a]['remote_id']}" for a in ("job.good", "job.wrong")}

        applied = _run(project, "apply", "--auto-approve")
        assert applied.exit_code == 0, applied.output
        assert sorted(r for r in seen if r in details) == sorted(details)  # one detailed GET per finished job
        assert seen.count("POST /v1/chat/completions") == 2  # one smoke test per new model
        assert all(_lock(project)[a]["attributes"]["curve"]["train_loss"] for a in ("job.good", "job.wrong"))

        seen.clear()
        text = _run(project, "plan")
        text_requests = list(seen)
        seen.clear()
        markdown = _run(project, "plan", "--format", "markdown")
        assert text.exit_code == markdown.exit_code == 0
        assert sorted(seen) == sorted(text_requests) and not details & set(seen)  # charts: no request of theirs
        assert markdown.stdout.count("```mermaid") == 1 and "No changes" in markdown.stdout

        seen.clear()
        again = _run(project, "apply", "--auto-approve")
        assert again.exit_code == 0 and not details & set(seen)  # recorded once: never read again


CLASSIFIER = """\
apiVersion: ftops/v1
kind: File
metadata: {name: intents}
spec: {path: ../data/intents.jsonl}
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: router}
spec:
  model: ministral-3b-latest
  job_type: classifier
  training_files: [{file: intents}]
  classifier_targets: [{name: intent, labels: [billing, shipping]}]
  hyperparameters: {training_steps: 2}
---
apiVersion: ftops/v1
kind: Model
metadata: {name: router}
spec: {job: router, name: intent-router, smoke: {prompt: "my invoice is charged twice", expect: "intent=billing"}}
"""


def test_a_classifier_model_is_smoke_tested_with_a_classification(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTOPS_LOCAL_SPEED", "100000")
    monkeypatch.setenv("FTOPS_ENDPOINT", "local")
    (tmp_path / "manifests").mkdir()
    (tmp_path / "data").mkdir()
    rows = [{"text": f"my invoice {i} is wrong, refund the charge", "labels": {"intent": "billing"}}
            for i in range(6)]
    rows += [{"text": f"where is my parcel {i}, the delivery is late", "labels": {"intent": "shipping"}}
             for i in range(6)]
    (tmp_path / "data" / "intents.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "manifests" / "router.yaml").write_text(CLASSIFIER)
    plan = _run(tmp_path, "plan")
    assert 'smoke test: a classification of "my invoice is charged twice", the answer must match' in plan.output
    applied = _run(tmp_path, "apply", "--auto-approve", "--wait")
    assert applied.exit_code == 0, applied.output
    assert re.search(r"✓ model\.router: smoke test passed for ft:\S+: 'intent=billing'", applied.output), applied.output
    assert _lock(tmp_path)["model.router"]["attributes"]["smoke"]["answer"] == "intent=billing"


def test_refresh_does_not_record_a_model_before_its_smoke_test(project: Path) -> None:
    manifest = project / "manifests" / "project.yaml"
    manifest.write_text(manifest.read_text().replace("spec: {job: good, name: support-good}", "spec: {job: good}"))
    trained = _run(project, "apply", "--auto-approve", "--wait", "--target", "job.good")  # the job, not its Model
    assert trained.exit_code == 0, trained.output
    refreshed = _run(project, "refresh")
    assert refreshed.exit_code == 0, refreshed.output
    assert "model.good" not in _lock(project)  # adopting it would let it in untested
    applied = _run(project, "apply", "--auto-approve", "--target", "model.good")
    assert applied.exit_code == 0, applied.output
    assert "✓ model.good: smoke test passed" in applied.output and "model.good" in _lock(project)
