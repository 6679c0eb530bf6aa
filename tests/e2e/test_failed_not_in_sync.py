"""A job that FAILED_VALIDATION under ``state: started`` is not in sync: the plan says so with the API's
reason and exits 2 with --detailed-exitcode, apply never retries it on its own, and ``--replace`` does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_project import SECRET_KEY, list_all, run_cli

from ftops.localapi.embedded import EmbeddedServer, start_embedded

MANIFEST = """\
apiVersion: ftops/v1
kind: File
metadata: {name: train}
spec: {path: ../data/train.jsonl}
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: bad}
spec:
  model: open-mistral-7b
  training_files: [{file: train}]
  hyperparameters: {training_steps: 2}
  state: started
"""


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    with start_embedded(tmp_path / "api", api_key=SECRET_KEY, speed=1000.0) as srv:
        yield srv


def test_failed_job_is_a_problem_until_replaced_on_request(tmp_path: Path, server: EmbeddedServer) -> None:
    root = tmp_path / "p"
    (root / "manifests").mkdir(parents=True)
    (root / "data").mkdir()
    rows = [json.dumps({"messages": [{"role": "user", "content": f"question {i} without an answer"}]})
            for i in range(10)]
    (root / "data" / "train.jsonl").write_text("\n".join(rows) + "\n")
    (root / "manifests" / "p.yaml").write_text(MANIFEST)
    first = run_cli(root, server.url, "apply", "--auto-approve", timeout=120)
    assert first.returncode == 1 and "failed validation" in first.stdout, first.stdout + first.stderr
    assert len(list_all(server.url, "jobs")) == 1

    plan = run_cli(root, server.url, "plan", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "Not in sync" in plan.stdout and "FAILED_VALIDATION" in plan.stdout
    assert "E207" in plan.stdout  # the API's own reason, not a generic sentence
    assert "--replace job.bad" in plan.stdout and "No changes. Your" not in plan.stdout

    again = run_cli(root, server.url, "apply", "--auto-approve", timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(list_all(server.url, "jobs")) == 1  # never retried on its own

    replaced = run_cli(root, server.url, "apply", "--auto-approve", "--replace", "job.bad", timeout=120)
    assert "created job" in replaced.stdout, replaced.stdout + replaced.stderr
    assert len(list_all(server.url, "jobs")) == 2  # retried once, because it was asked for
