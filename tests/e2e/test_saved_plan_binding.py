"""A saved plan can only do what its manifests and state say: every kind of edit to plan.json is refused.

One project, one ``plan -o`` (in-process CLI against the embedded local API); each case edits a copy of the
saved plan the way an attacker would (digest recomputed) or naively (digest left alone), runs ``apply`` and
checks the refusal names the difference and nothing was applied. Last, the untouched plan applies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ftops.cli import cli
from ftops.plan.planfile import BINDING, plan_digest

MANIFEST = """\
apiVersion: ftops/v1
kind: File
metadata: {name: train}
spec: {path: ../data/train.jsonl}
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: support}
spec:
  model: open-mistral-7b
  training_files: [{file: train}]
  hyperparameters: {training_steps: 2}
  state: started
"""
ROW = ('{"messages": [{"role": "user", "content": "Where is my order %d?"}, '
       '{"role": "assistant", "content": "It ships tomorrow."}]}\n')

Data = dict[str, Any]


def _job(data: Data, action: str = "create") -> Data:
    return next(c for c in data["changes"] if c["address"] == "job.support" and c["action"] == action)


def _steps(data: Data) -> None:
    for key in ("spec", "fingerprint_input"):
        _job(data)["after"][key]["hyperparameters"]["training_steps"] = 999


def _model(data: Data) -> None:
    _job(data)["after"]["spec"]["model"] = "mistral-large-latest"


def _dup(data: Data) -> None:
    data["changes"].append(data["changes"][-1])


def _reverse(data: Data) -> None:
    data["changes"].reverse()


def _partial(data: Data) -> None:
    data["changes"] = [c for c in data["changes"] if c["action"] != "start"]


def _cost(data: Data) -> None:
    _job(data, "start")["cost"]["cost"] = 0.01


def _address(data: Data) -> None:
    data["changes"][0]["address"] = "file.other"


def _remote_id(data: Data) -> None:
    _job(data, "start")["remote_id"] = "ftjob-someone-elses"


def _extra_delete(data: Data) -> None:
    data["changes"].append({**data["changes"][0], "action": "delete", "remote_id": "file-victim"})


def _depends(data: Data) -> None:
    _job(data)["depends_on"] = []


EDITS: dict[str, tuple[Callable[[Data], None], str]] = {
    "training_steps 2 to 999": (_steps, "training_steps: the plan file says 999, the manifests and state say 2"),
    "model": (_model, 'model: the plan file says "mistral-large-latest"'),
    "duplicated change": (_dup, "is listed 2 times"),
    "reversed changes": (_reverse, "another order"),
    "partial change list": (_partial, "job.support: the manifests and state need start; the plan file lacks it"),
    "cost": (_cost, "cost.cost: the plan file says 0.01"),
    "address": (_address, "file.other: the plan file would upload it"),
    "remote id": (_remote_id, 'remote_id: the plan file says "ftjob-someone-elses"'),
    "added delete": (_extra_delete, "file.train: the plan file would delete it"),
    "dependencies": (_depends, "depends_on: the plan file says []"),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bound")
    (root / "manifests").mkdir()
    (root / "data").mkdir()
    (root / "data" / "train.jsonl").write_text("".join(ROW % i for i in range(12)))
    (root / "manifests" / "main.yaml").write_text(MANIFEST)
    with pytest.MonkeyPatch.context() as mp:
        for var in ("FTOPS_ENDPOINT", "MISTRAL_API_KEY", "CI"):
            mp.delenv(var, raising=False)
        planned = CliRunner().invoke(cli, ["-C", str(root), "plan", "-o", "plan.json"])
    assert planned.exit_code == 0, planned.output
    return root


def _apply(root: Path, plan_file: str, monkeypatch: pytest.MonkeyPatch) -> Result:
    for var in ("FTOPS_ENDPOINT", "MISTRAL_API_KEY", "CI"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner().invoke(cli, ["-C", str(root), "apply", plan_file])


def _write(root: Path, data: Data, name: str, *, rebind: bool) -> str:
    if rebind:  # what someone who knows the format does: the digest then matches the edited content
        content = {k: v for k, v in data.items() if k != BINDING}
        data[BINDING]["digest"] = plan_digest(content, data[BINDING]["targets"])
    (root / name).write_text(json.dumps(data, indent=2))
    return name


@pytest.mark.parametrize("case", sorted(EDITS))
def test_edited_plan_is_refused_with_the_difference(project: Path, case: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    edit, expected = EDITS[case]
    data = json.loads((project / "plan.json").read_text())
    edit(data)
    result = _apply(project, _write(project, data, f"edited-{case.replace(' ', '-')}.json", rebind=True),
                    monkeypatch)
    assert result.exit_code == 1, result.output
    assert "not what its manifests and state ask for now; nothing was applied" in result.output
    assert expected in result.output
    assert "internal error" not in result.output
    assert not (project / "ftops.lock").exists()

    naive = json.loads((project / "plan.json").read_text())
    edit(naive)
    result = _apply(project, _write(project, naive, "naive.json", rebind=False), monkeypatch)
    assert result.exit_code == 1 and "was edited after `ftops plan` wrote it" in result.output
    assert not (project / "ftops.lock").exists()


WRONG_TYPES: dict[str, Callable[[Data], None]] = {
    "serial as text": lambda d: d.update(lock_serial="many"),
    "action unknown": lambda d: d["changes"][0].update(action="explode"),
    "after not a mapping": lambda d: d["changes"][0].update(after="everything"),
    "changes not a list": lambda d: d.update(changes={"a": 1}),
    "cost as text": lambda d: _job(d, "start").update(cost="free"),
    "binding missing": lambda d: d.pop(BINDING),
    "targets not a list": lambda d: d[BINDING].update(targets="job.support"),
}


@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
def test_wrong_type_is_a_clear_error(project: Path, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.loads((project / "plan.json").read_text())
    WRONG_TYPES[case](data)
    result = _apply(project, _write(project, data, "typed.json", rebind=False), monkeypatch)
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert "typed.json" in result.output and "hint:" in result.output
    assert not (project / "ftops.lock").exists()


def test_deeply_nested_plan_is_refused(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "deep.json").write_text('{"id": "x", "changes": ' + "[" * 50_000 + "]" * 50_000 + "}")
    result = _apply(project, "deep.json", monkeypatch)
    assert result.exit_code == 1 and "nests more than 64 levels" in result.output


def test_changed_id_with_a_matching_digest_is_still_single_use(project: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs last (file order): the untouched plan applies; a copy under another id is then refused."""
    data = json.loads((project / "plan.json").read_text())
    data["id"] = "00000000-0000-4000-8000-000000000000"
    other = _write(project, data, "other-id.json", rebind=True)
    applied = _apply(project, "plan.json", monkeypatch)
    assert applied.exit_code == 0, applied.output
    assert (project / "ftops.lock").exists()
    again = _apply(project, other, monkeypatch)
    assert again.exit_code == 1 and "could create everything a second time" in again.output
