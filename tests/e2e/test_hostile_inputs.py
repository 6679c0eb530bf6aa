"""Issue 15's hostile and unlucky inputs, one regression test each: a clear error (exit 1), never a hang,
never "internal error", nothing written. In-process CLI against the embedded local API (or one started here).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ftops.cli import cli
from ftops.localapi.embedded import EmbeddedServer, start_embedded

ROW = ('{"messages": [{"role": "user", "content": "Where is order %d?"}, '
       '{"role": "assistant", "content": "It ships tomorrow."}]}\n')
FILE_DOC = "apiVersion: ftops/v1\nkind: File\nmetadata: {name: train}\nspec: {path: ../data/train.jsonl}\n"
KEY = "sk-hostile-0123456789abcdef0123456789ab"


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("FTOPS_ENDPOINT", "MISTRAL_API_KEY", "CI"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "manifests").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text("".join(ROW % i for i in range(10)))
    (tmp_path / "manifests" / "main.yaml").write_text(FILE_DOC)
    return tmp_path


def _run(root: Path, *args: str) -> Result:
    start = time.monotonic()
    result = CliRunner().invoke(cli, ["-C", str(root), *args])
    assert time.monotonic() - start < 60, args
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    return result


def _refused(root: Path, *args: str, expect: str) -> Result:
    result = _run(root, *args)
    assert result.exit_code == 1, result.output
    assert expect in result.output
    return result


def test_billion_laughs_manifest_fails_fast(project: Path) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    (project / "manifests" / "bomb.yaml").write_text(FILE_DOC.replace("train", "bomb") + "\n".join(lines) + "\n")
    for command in ("validate", "plan"):
        _refused(project, command, expect="manifests/bomb.yaml:10:5: error[M003]: YAML too large or deep")


def test_deeply_nested_manifest(project: Path) -> None:
    (project / "manifests" / "deep.yaml").write_text("a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    _refused(project, "validate", expect="nests more than 64 levels deep")


def test_unhashable_kind(project: Path) -> None:
    (project / "manifests" / "main.yaml").write_text(FILE_DOC.replace("kind: File", "kind: [File]"))
    _refused(project, "validate", expect="main.yaml:2:7: error[M011]: kind must be a word, not ['File']")


def test_huge_value_in_an_error_is_shown_bounded(project: Path) -> None:
    huge = "[" + ", ".join(["x" * 1000] * 1000) + "]"
    (project / "manifests" / "main.yaml").write_text(FILE_DOC.replace("metadata: {name: train}",
                                                                      f"metadata: {{name: {huge}}}"))
    result = _refused(project, "validate", expect="metadata.name")
    assert len(result.output) < 2000


def test_dataset_path_symlink_loop_and_long_name(project: Path) -> None:
    (project / "data" / "loop1").symlink_to("loop2")
    (project / "data" / "loop2").symlink_to("loop1")
    long_name = "n" * 300 + ".jsonl"
    (project / "manifests" / "main.yaml").write_text(
        FILE_DOC.replace("train.jsonl", "loop1") + "---\n"
        + FILE_DOC.replace("train.jsonl", long_name).replace("name: train", "name: long"))
    result = _refused(project, "validate",
                      expect="file.train: error[M040]: dataset path cannot be resolved: a symlink loop")
    assert "file.long: error[M040]: dataset path cannot be resolved: file name too long" in result.output


@pytest.mark.parametrize("command", ["validate", "stats", "fix", "split"])
@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "directory"])
def test_special_files_as_datasets(project: Path, command: str, special: str) -> None:
    path = {"fifo": str(project / "data" / "pipe.jsonl"), "/dev/zero": "/dev/zero",
            "directory": str(project / "data")}[special]
    if special == "fifo":
        os.mkfifo(path)
    extra = {"fix": ["-o", str(project / "out.jsonl")], "split": ["--eval-fraction", "0.5", "--seed", "1"]}
    result = _run(project, "data", command, path, *extra.get(command, []))
    assert result.exit_code in (1, 2), result.output  # 2: click refuses a directory for a file argument
    assert ("not a regular file" in result.output or "is a directory" in result.output), result.output
    assert not (project / "out.jsonl").exists()


def test_fifo_as_a_file_resource_and_as_a_manifest(project: Path) -> None:
    os.mkfifo(project / "data" / "pipe.jsonl")
    (project / "manifests" / "main.yaml").write_text(FILE_DOC.replace("train.jsonl", "pipe.jsonl"))
    _refused(project, "validate", expect="is not a file")
    _refused(project, "plan", expect="is not a file")
    (project / "manifests" / "main.yaml").write_text(FILE_DOC)
    os.mkfifo(project / "manifests" / "pipe.yaml")
    _refused(project, "validate", expect="manifests/pipe.yaml: error[M002]: cannot read the file: not a regular file")


def test_data_fix_lone_surrogate(project: Path) -> None:
    (project / "data" / "bad.jsonl").write_text(
        '{"messages": [{"role": "user", "content": "a\\ud800"}, {"role": "assistant", "content": "b"}]}\n'
        + ROW % 1)
    result = _run(project, "data", "fix", str(project / "data" / "bad.jsonl"), "-o", str(project / "fixed.jsonl"))
    assert result.exit_code == 0, result.output
    assert "bad.jsonl:1: dropped: E120 the text holds a lone UTF-16 surrogate" in result.output
    assert (project / "fixed.jsonl").read_text() == ROW % 1


def test_plan_file_must_be_a_regular_file(project: Path) -> None:
    os.mkfifo(project / "plan.json")
    # A FIFO is not taken for a plan file by apply's sniffing: it is reported as a bad manifest path.
    _refused(project, "apply", "plan.json", expect="not a regular file")
    from ftops.errors import PlanFileError
    from ftops.plan.planfile import load_plan

    for path in (project / "plan.json", Path("/dev/zero"), project / "data"):
        with pytest.raises(PlanFileError, match=r"not a regular file|is a directory"):
            load_plan(path)


def test_plan_out_in_a_read_only_place_injected(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Injected: the write of plan.json raises EROFS (tests run as root, where chmod does not stop writes)."""
    def refuse(path: Path, text: str) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr("ftops.plan.planfile.atomic_write_text", refuse)
    result = _refused(project, "plan", "-o", "plan.json", expect="plan.json: cannot write the plan file: "
                      "Read-only file system")
    assert "hint: save it in a writable directory" in result.output


def test_environment_oserror_names_cause_and_fix(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Injected: taking the run lock raises EROFS, as `wait`/`apply` see in a read-only checkout."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(project / ".ftops"))

    monkeypatch.setattr("ftops.state.runlock.acquire", refuse)
    result = _refused(project, "wait", expect=".ftops: cannot write there: the file system is read-only")
    assert "hint: run ftops in a writable checkout" in result.output


@pytest.fixture()
def read_only_project(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The project seen through a real read-only bind mount (skipped where mounting is not allowed)."""
    mnt = tmp_path_factory.mktemp("ro")
    bind = subprocess.run(["mount", "--bind", str(project), str(mnt)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip("cannot bind-mount here (needs root and mount rights)")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(mnt)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_wait_and_plan_out_in_a_real_read_only_checkout(read_only_project: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with start_embedded(tmp_path / "api", api_key=KEY) as server:
        _remote(monkeypatch, server)
        _refused(read_only_project, "wait", expect="cannot write there: the file system is read-only")
        _refused(read_only_project, "plan", "-o", "plan.json",
                 expect="cannot write the plan file: Read-only file system")


def _remote(monkeypatch: pytest.MonkeyPatch, server: EmbeddedServer) -> None:
    monkeypatch.setenv("FTOPS_ENDPOINT", server.url)
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)


SECRET_URL = "https://user:hunter2pw@example.invalid/?key=s3cr3tquery#fr4gment"
SECRETS = ("hunter2pw", "s3cr3tquery", "fr4gment")


@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"], ["status"], ["wait"]])
@pytest.mark.parametrize("url", [SECRET_URL, "https://example.invalid/v1?key=s3cr3tquery#fr4gment",
                                 "ftp://user:hunter2pw@example.invalid/?key=s3cr3tquery"])
def test_endpoint_secrets_are_never_printed(project: Path, monkeypatch: pytest.MonkeyPatch, command: list[str],
                                            url: str) -> None:
    monkeypatch.setenv("FTOPS_ENDPOINT", url)
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    result = _run(project, *command)
    assert result.exit_code == 1
    assert "example.invalid" in result.output or "credentials" in result.output
    assert not any(s in result.output for s in SECRETS), result.output


def test_secret_endpoint_in_a_lock_or_plan_file_is_redacted(project: Path) -> None:
    from ftops.errors import PlanFileError, StateError
    from ftops.plan.model import Plan
    from ftops.plan.planfile import check_plan_applicable
    from ftops.state.lockfile import check_endpoint
    from ftops.state.model import LockFile

    lock = LockFile(lineage="aaaaaaaa-0000-4000-8000-000000000000", serial=1, endpoint=SECRET_URL)
    with pytest.raises(StateError) as state_err:
        check_endpoint(lock, "local")
    plan = Plan(id="p", created_at=0.0, endpoint=SECRET_URL, lock_lineage=None, lock_serial=0,
                manifest_digest="sha256:x")
    with pytest.raises(PlanFileError) as plan_err:
        check_plan_applicable(plan, None, "sha256:x", "local")
    for text in (state_err.value.render(), plan_err.value.render()):
        assert "example.invalid" in text and not any(s in text for s in SECRETS), text


def test_redact_url_cases() -> None:
    from ftops.redact import redact_url

    assert redact_url(SECRET_URL) == "https://***@example.invalid/?***#***"
    assert redact_url("https://[::1/x?key=s3cr3tquery") == "https://[::1/x?***"
    assert redact_url("user:hunter2pw@host/x?k=v") == "***@host/x?***"
    assert redact_url("https://api.mistral.ai") == "https://api.mistral.ai"
    assert json.dumps(redact_url("local")) == '"local"'
