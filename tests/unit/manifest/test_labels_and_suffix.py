"""`ftops validate` checks classifier labels against the data; default suffixes fit the API's rule (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftops.cli import cli
from ftops.desired import effective_suffix
from ftops.manifest.matrix import expanded_suffix
from ftops.manifest.suffix import is_valid_suffix

CLASSIFIER = """\
apiVersion: ftops/v1
kind: File
metadata: {name: lengths}
spec: {path: ../data/lengths.jsonl}
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: length-clf}
spec:
  model: ministral-3b-latest
  job_type: classifier
  training_files: [{file: lengths}]
  classifier_targets:
    - {name: length, labels: [short, lengthy]}
"""


def _project(tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "manifests" / "jobs.yaml").write_text(CLASSIFIER)
    (tmp_path / "data" / "lengths.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def _validate(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["validate", "--format", "json"])
    return result.exit_code, result.output


def test_targets_that_disagree_with_the_data_are_reported_with_file_and_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[dict[str, object]] = [{"text": f"sample {i}", "labels": {"length": "short" if i % 2 else "long"}}
                                     for i in range(12)]
    rows.append({"text": "extra", "labels": {"tone": "calm", "length": "short"}})
    code, out = _validate(_project(tmp_path, rows), monkeypatch)
    assert code == 1
    found = {d["message"]: d for d in json.loads(out)["diagnostics"] if d["code"] == "M057"}
    assert "data/lengths.jsonl:1: label 'long' of target 'length' is not in its labels ['lengthy', 'short']" in found
    assert "data/lengths.jsonl:13: the data labels target 'tone', which classifier_targets does not declare" in found
    missing = found["target 'length' declares label 'lengthy', which no training row has"]
    assert "'long'" in missing["hint"] and missing["file"] == "manifests/jobs.yaml" and missing["line"] == 14


def test_targets_that_match_the_data_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[dict[str, object]] = [{"text": f"sample {i}", "labels": {"length": "short" if i % 2 else "lengthy"}}
                                     for i in range(12)]
    code, out = _validate(_project(tmp_path, rows), monkeypatch)
    assert code == 0, out


@pytest.mark.parametrize("name", ["support.v2-experiment", "a" * 63, "my.model", "support", "x.y"])
def test_default_suffixes_fit_the_rule_and_stay_unique(name: str) -> None:
    suffix = effective_suffix(name, None)
    assert is_valid_suffix(suffix)
    assert suffix == name if is_valid_suffix(name) else suffix != name
    assert effective_suffix(name + "-b", None) != suffix or name + "-b" == suffix
    assert is_valid_suffix(expanded_suffix(name, 12, 12, from_name=True))


def test_names_that_collapse_to_one_suffix_get_different_ones() -> None:
    first, second = effective_suffix("support.v2-experiment-a", None), effective_suffix("support.v2-experiment-b", None)
    assert first != second and is_valid_suffix(first) and is_valid_suffix(second)
    assert effective_suffix("anything", "given") == "given"
