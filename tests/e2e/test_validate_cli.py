"""`ftops validate` and `ftops schema` as a user runs them: exit codes, output, no tracebacks."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ftops.cli import cli
from ftops.manifest.docgen import render_reference

REPO = Path(__file__).resolve().parents[2]
CHAT = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}\n'
FILE = "apiVersion: ftops/v1\nkind: File\nmetadata:\n  name: train\nspec:\n  path: ../data/train.jsonl\n"
CLASSIFIER_JOB = """\
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: router}
spec:
  model: ministral-3b-latest
  job_type: classifier
  training_files: [{file: train}]
  classifier_targets: [{name: intent, labels: [billing]}]
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text(CHAT * 4)
    (tmp_path / "manifests" / "files.yaml").write_text(FILE)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(cwd)


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    return result


def test_examples_are_valid(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    result = run("-C", str(tmp_path / "examples"), "validate")
    assert result.exit_code == 0, result.output
    assert result.output == "Valid: 3 files (100 examples), 2 jobs, 1 model.\n"


def test_default_paths_and_success_line(project: Path) -> None:
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert result.output == "Valid: 1 file (4 examples), 0 jobs, 0 models.\n"


def test_manifests_setting_in_ftops_toml(project: Path) -> None:
    (project / "manifests").rename(project / "conf")
    (project / "ftops.toml").write_text('manifests = "conf"\n')
    assert run("validate").exit_code == 0


def test_errors_are_listed_with_location_and_exit_1(project: Path) -> None:
    (project / "manifests" / "files.yaml").write_text(FILE.replace("path:", "pth:"))
    result = run("validate")
    assert result.exit_code == 1
    assert "manifests/files.yaml:6:3 file.train: error[M020]: unknown field 'pth' in spec" in result.stderr
    assert "hint: did you mean 'path'?" in result.stderr
    assert "manifests/files.yaml:5:1 file.train: error[M021]: missing required field 'path' in spec" in result.stderr
    assert result.stderr.rstrip().endswith("Error: 2 errors in manifests; nothing was changed.")


def test_json_format(project: Path) -> None:
    (project / "manifests" / "files.yaml").write_text(FILE.replace("kind: File", "kind: Fille"))
    result = run("validate", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["valid"] is False
    assert doc["diagnostics"] == [{
        "code": "M011", "message": "unknown kind 'Fille'", "file": "manifests/files.yaml", "line": 2, "column": 7,
        "address": None, "hint": "did you mean 'File'?",
    }]


def test_json_format_success(project: Path) -> None:
    result = run("validate", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["valid"] is True and doc["diagnostics"] == []
    assert doc["summary"] == {"files": 1, "examples": 4, "jobs": 0, "models": 0}


def test_dataset_errors_point_at_the_file_and_the_data_line(project: Path) -> None:
    bad = '{"messages": [{"role": "user", "content": "Hi"}]}\n'
    (project / "data" / "train.jsonl").write_text(CHAT + bad * 25)
    result = run("validate", "--format", "json")
    assert result.exit_code == 1
    diagnostics = json.loads(result.stdout)["diagnostics"]
    assert len(diagnostics) == 21  # 20 shown + one line counting the rest
    first = diagnostics[0]
    assert (first["file"], first["line"], first["column"], first["address"]) == ("manifests/files.yaml", 6, 9,
                                                                                  "file.train")
    assert first["message"].startswith("data/train.jsonl:2: ")
    assert first["code"].startswith("E")
    assert diagnostics[-1]["code"] == "M070" and "5 more dataset errors" in diagnostics[-1]["message"]
    assert "ftops data validate data/train.jsonl" in diagnostics[-1]["hint"]


def test_classifier_jobs_check_their_files_as_classifier_data(project: Path) -> None:
    (project / "manifests" / "jobs.yaml").write_text(CLASSIFIER_JOB)
    result = run("validate")
    assert result.exit_code == 1
    assert "manifests/files.yaml:6:9 file.train: error[E" in result.stderr
    assert "data/train.jsonl:1:" in result.stderr


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: (p / "manifests" / "files.yaml").write_bytes(b"\x00\x01\xff\xfe garbage"), "binary file"),
        (lambda p: (p / "manifests" / "files.yaml").unlink(), "no manifest files (*.yaml, *.yml) in manifests"),
        (lambda p: (p / "manifests" / "files.yaml").write_text("kind: File\n  bad: [\n"), "error[M003]: invalid YAML"),
        (lambda p: (p / "manifests" / "files.yaml").write_text("---\n# empty\n"), "no manifest documents found"),
    ],
    ids=["binary", "empty-folder", "syntax", "no-documents"],
)
def test_bad_input_never_tracebacks(project: Path, setup: object, expected: str) -> None:
    setup(project)  # type: ignore[operator]
    result = run("validate")
    assert result.exit_code == 1
    assert expected in result.stderr


def test_missing_path_argument(project: Path) -> None:
    result = run("validate", "nowhere.yaml")
    assert result.exit_code == 1
    assert "nowhere.yaml: error[M002]: no such file or directory" in result.stderr


def test_schema_command() -> None:
    full = json.loads(run("schema").output)
    assert full["$schema"].endswith("2020-12/schema") and "oneOf" in full
    only = json.loads(run("schema", "--kind", "FineTuningJob").output)
    assert only["properties"]["kind"]["const"] == "FineTuningJob"
    assert run("schema", "--markdown").output == render_reference()
    assert run("schema", "--markdown", "--kind", "File").exit_code == 2


def test_without_a_manifests_folder_the_project_root_is_searched(project: Path) -> None:
    (project / "manifests" / "files.yaml").rename(project / "files.yaml")
    (project / "manifests").rmdir()
    (project / "files.yaml").write_text(FILE.replace("../data", "data"))
    result = run("validate")
    assert result.exit_code == 0, result.output


def test_bad_ftops_toml_is_a_clear_error(project: Path) -> None:
    (project / "ftops.toml").write_text('manifest = "manifests"\n')
    result = run("validate")
    assert result.exit_code == 1
    assert "manifests" in result.stderr and "hint:" in result.stderr
