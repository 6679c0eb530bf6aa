"""``ftops init``: a fresh project that validates as is, and never clobbers a user's files without --force."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result

from ftops.cli import cli

REPO = Path(__file__).resolve().parents[2]
EXPECTED = [
    "manifests/files.yaml",
    "manifests/jobs.yaml",
    "manifests/models.yaml",
    "data/train.jsonl",
    "data/eval.jsonl",
    "ftops.toml",
    ".gitignore",
    ".gitattributes",
    ".github/workflows/ftops.yml",
    ".ftops-schema.json",
]



@pytest.fixture(autouse=True)
def _restore_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ftops -C DIR` changes the process's directory; put it back after each test."""
    monkeypatch.chdir(Path.cwd())

def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result


def test_init_writes_a_project_that_validates(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    result = run("init", str(target))
    assert result.exit_code == 0, result.output
    for dest in EXPECTED:
        assert (target / dest).is_file(), dest
        assert dest in result.output
    assert "Next steps" in result.output and "ftops plan" in result.output

    check = run("-C", str(target), "validate")
    assert check.exit_code == 0, check.output
    assert "Valid: 2 files" in check.output and "1 job" in check.output and "1 model" in check.output

    assert ".ftops/" in (target / ".gitignore").read_text().splitlines()
    assert (target / ".github/workflows/ftops.yml").read_text() == (REPO / "examples/github/ftops.yml").read_text()


def test_manifests_point_editors_at_a_schema_that_accepts_them(tmp_path: Path) -> None:
    assert run("init", str(tmp_path)).exit_code == 0
    schema = json.loads((tmp_path / ".ftops-schema.json").read_text())
    for manifest in sorted((tmp_path / "manifests").glob("*.yaml")):
        text = manifest.read_text()
        assert text.splitlines()[0] == "# yaml-language-server: $schema=../.ftops-schema.json"
        for doc in yaml.safe_load_all(text):
            jsonschema.validate(doc, schema)
    # The shipped schema is the one `ftops schema` prints.
    assert json.loads(run("schema").stdout) == schema


def test_init_refuses_to_overwrite_and_names_the_files(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "jobs.yaml").write_text("# mine\n")
    (tmp_path / "ftops.toml").write_text("# mine\n")

    result = run("init", str(tmp_path))
    assert result.exit_code == 1
    assert "manifests/jobs.yaml" in result.output and "ftops.toml" in result.output
    assert "--force" in result.output
    # Nothing at all was written.
    assert (tmp_path / "manifests" / "jobs.yaml").read_text() == "# mine\n"
    assert not (tmp_path / "data").exists() and not (tmp_path / "manifests" / "files.yaml").exists()

    forced = run("init", str(tmp_path), "--force")
    assert forced.exit_code == 0, forced.output
    assert "manifests/jobs.yaml (overwritten)" in forced.output
    assert "FineTuningJob" in (tmp_path / "manifests" / "jobs.yaml").read_text()


@pytest.mark.parametrize("force", [False, True])
def test_an_existing_gitignore_is_extended_not_replaced(tmp_path: Path, force: bool) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n")
    result = run("init", str(tmp_path), *(["--force"] if force else []))
    assert result.exit_code == 0, result.output
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[0] == "node_modules/" and ".ftops/" in lines
    # Idempotent: a second init --force adds nothing twice.
    run("init", str(tmp_path), "--force")
    assert (tmp_path / ".gitignore").read_text().splitlines().count(".ftops/") == 1


def test_init_in_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("init")
    assert result.exit_code == 0, result.output
    assert "the current directory" in result.output
    assert (tmp_path / "ftops.toml").is_file()


def test_init_into_a_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = run("init", str(target))
    assert result.exit_code != 0
    assert "Traceback" not in result.output and "file.txt" in result.output
