"""`ftops apply` shows exactly the plan `ftops plan` shows (same cost figures), and a second apply while a
job is still training reports the model change as waiting, asks nothing and writes nothing.

Both run against the embedded local API over real HTTP; the waiting test uses a slow server (speed 20:
training takes ~15 s) and fast-forwards its clock through the admin endpoint instead of sleeping.
"""

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

MODEL = """---
apiVersion: ftops/v1
kind: Model
metadata: {name: support}
spec: {job: support-a, name: Support assistant}
"""


@pytest.fixture()
def slow_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    with start_embedded(tmp_path / "api", api_key=SECRET_KEY, speed=20.0) as srv:
        yield srv


def _plan_text(stdout: str) -> list[str]:
    """The rendered plan: after the endpoint line, up to the summary line (inclusive)."""
    lines = stdout.splitlines()[1:]
    end = next(i for i, line in enumerate(lines) if line.startswith("Plan: "))
    return lines[: end + 1]


def test_apply_shows_the_same_plan_and_cost_as_plan(tmp_path: Path, slow_server: EmbeddedServer) -> None:
    root = make_project(tmp_path / "proj", state_a="started", extra=MODEL)
    # apply first, on a fresh hash cache: it counts the tokens itself, as plan does.
    declined = run_cli(root, slow_server.url, "apply")
    assert declined.returncode == 1 and "--auto-approve" in declined.stderr, declined.stdout + declined.stderr
    planned = run_cli(root, slow_server.url, "plan")
    assert planned.returncode == 0, planned.stderr
    apply_text, plan_text = _plan_text(declined.stdout), _plan_text(planned.stdout)
    assert apply_text == plan_text
    costs = [line.strip() for line in plan_text if line.strip().startswith("cost:")]
    assert costs and all("exact count" in line for line in costs), costs
    assert plan_text[-1].endswith("Estimated training cost: $4.00 (1 job).")
    assert list_all(slow_server.url, "files") == [] and not (root / "ftops.lock").exists()


def test_second_apply_while_training_reports_waiting_without_asking_or_writing(
    tmp_path: Path, slow_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = slow_server.url
    root = make_project(tmp_path / "proj", state_a="started", extra=MODEL)
    first = run_cli(root, url, "apply", "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "model.support: waits for job.support-a to finish" in first.stdout
    before = json.loads((root / "ftops.lock").read_text())

    seen: Counter[str] = Counter()
    original = httpx.Client.send

    def counting_send(self: httpx.Client, request: httpx.Request, **kw: object) -> httpx.Response:
        seen[request.method] += 1
        return original(self, request, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx.Client, "send", counting_send)
    for key, value in api_env(url).items():
        monkeypatch.setenv(key, value)
    # No --auto-approve and no terminal: had it asked for confirmation, it would have refused with exit 1.
    second = CliRunner().invoke(cli, ["-C", str(root), "apply"])
    assert second.exit_code == 0, second.output
    assert "waiting for job.support-a" in second.output and "still training" in second.output
    assert "Apply these changes" not in second.output and "refusing" not in second.output
    assert "Plan: " not in second.output  # not presented as changes to approve
    assert {m for m in seen if m != "GET"} == set(), seen
    # Only the observed job status may have been recorded (training moved on); nothing else was written.
    after = json.loads((root / "ftops.lock").read_text())
    observed = ("status", "fine_tuned_model")
    assert {a: {k: v for k, v in e.items() if k not in observed} for a, e in after["resources"].items()} == \
        {a: {k: v for k, v in e.items() if k not in observed} for a, e in before["resources"].items()}
    monkeypatch.undo()

    # CI gates apply on `plan --detailed-exitcode`: changes that only wait for training are not "changes now".
    gated = run_cli(root, url, "plan", "--detailed-exitcode")
    assert gated.returncode == 0, gated.stdout + gated.stderr
    assert "Nothing to apply now" in gated.stdout

    admin(url, "POST", "/_ftops/clock/advance", {"seconds": 3600})
    third = run_cli(root, url, "apply", "--auto-approve")
    assert third.returncode == 0, third.stdout + third.stderr
    model = json.loads((root / "ftops.lock").read_text())["resources"]["model.support"]
    assert admin(url, "GET", f"/v1/models/{model['remote_id']}")["name"] == "Support assistant"
