"""Issue 15 through the CLI: a lock with a partial intent marker, a FIFO or /dev/zero at the lock path makes
`plan`, `status` and `apply` exit 1 with the lock's path and a hint, at once: no internal error, no hang, no
MemoryError, nothing written."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ftops.cli import cli
from ftops.localapi.embedded import EmbeddedServer, start_embedded

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from apply_project import SECRET_KEY, api_env, list_all, make_project


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, EmbeddedServer]]:
    with start_embedded(tmp_path / "api", api_key=SECRET_KEY, speed=1000.0) as server:
        for key, value in api_env(server.url).items():
            monkeypatch.setenv(key, value)
        yield make_project(tmp_path / "proj"), server


def _refused(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-C", str(root), *args])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output.lower() and "Traceback" not in result.output
    assert str(root / "ftops.lock") in result.output and "hint:" in result.output
    return result.output


def test_a_partial_intent_marker_is_refused_before_recovery(project: tuple[Path, EmbeddedServer]) -> None:
    root, server = project
    assert CliRunner().invoke(cli, ["-C", str(root), "apply", "--auto-approve"]).exit_code == 0
    lock = json.loads((root / "ftops.lock").read_text())
    lock["intents"] = [{"id": "i1", "address": "job.support-a", "action": "create", "fingerprint": "x",
                        "marker": {"suffix": "support-a"}, "started_at": 1.0}]
    text = json.dumps(lock, indent=2, sort_keys=True) + "\n"
    (root / "ftops.lock").write_text(text)
    for args in (["apply", "--auto-approve"], ["plan"], ["status"]):
        assert "marker lacks spec" in _refused(root, *args)
    assert (root / "ftops.lock").read_text() == text  # untouched
    assert len(list_all(server.url, "jobs")) == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_at_the_lock_path_does_not_hang_any_command(project: tuple[Path, EmbeddedServer]) -> None:
    root, _ = project
    os.mkfifo(root / "ftops.lock")
    for args in (["apply", "--auto-approve"], ["plan"], ["status"]):
        assert "FIFO" in _refused(root, *args)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_as_the_lock_is_refused(project: tuple[Path, EmbeddedServer]) -> None:
    root, _ = project
    (root / "ftops.lock").symlink_to("/dev/zero")
    for args in (["apply", "--auto-approve"], ["plan"]):
        assert "not a regular file" in _refused(root, *args)
