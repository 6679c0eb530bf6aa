"""The embedded local API as a child process (what a CLI command run from a shell starts): it serves the real
API, stops when the command stops or dies (kill -9 included), ignores the terminal's Ctrl-C, and a start
failure is one clear error naming the state directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ftops.client import MistralClient, RetryPolicy
from ftops.errors import ConfigError
from ftops.localapi.process import spawn_local_api

ROOT = Path(__file__).resolve().parents[2]


def _children_serving(state_dir: Path) -> list[int]:
    """Pids of local API child processes serving ``state_dir`` (from /proc: no psutil)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if b"ftops.localapi.process" in cmdline and str(state_dir).encode() in cmdline:
            pids.append(int(entry.name))
    return pids


def _gone(state_dir: Path, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _children_serving(state_dir):
            return True
        time.sleep(0.05)
    return False


def test_serves_the_api_and_stops(tmp_path: Path) -> None:
    with spawn_local_api(tmp_path, "k-123") as server:
        with MistralClient(server.url, "k-123", retry=RetryPolicy(max_attempts=1)) as client:
            uploaded = client.upload_file(_dataset(tmp_path), filename="train.jsonl")
            assert [f.id for f in client.list_files()] == [uploaded.id]
        pid = _children_serving(tmp_path)[0]
        assert os.getsid(pid) == pid  # its own session: the terminal's Ctrl-C does not reach it
        assert "k-123" not in (Path("/proc") / str(pid) / "cmdline").read_text()  # the key is not on argv
    assert _gone(tmp_path)


def test_the_child_stops_when_the_command_is_killed(tmp_path: Path) -> None:
    script = ("import sys, time; from pathlib import Path; from ftops.localapi.process import spawn_local_api\n"
              "s = spawn_local_api(Path(sys.argv[1]), 'ftops-local'); print(s.url, flush=True); time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    assert parent.stdout is not None and parent.stdout.readline().startswith("http://127.0.0.1:")
    assert _children_serving(tmp_path)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _gone(tmp_path), "the local API outlived the command that started it"


def test_a_start_failure_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "state.sqlite3").mkdir()  # the database path is taken: the server cannot open its store
    server = spawn_local_api(tmp_path, "ftops-local")
    with pytest.raises(ConfigError) as failed:
        _ = server.url
    assert "the embedded local API did not start" in failed.value.message
    assert failed.value.where == str(tmp_path)
    assert _gone(tmp_path)


def test_plan_from_a_shell_uses_a_child_api_that_does_not_outlive_it(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    _dataset(tmp_path)
    (tmp_path / "manifests" / "f.yaml").write_text(
        "apiVersion: ftops/v1\nkind: File\nmetadata:\n  name: train\nspec:\n  path: ../train.jsonl\n")
    env = {k: v for k, v in os.environ.items() if k not in ("FTOPS_ENDPOINT", "CI", "MISTRAL_API_KEY")}
    done = subprocess.run([sys.executable, "-m", "ftops", "--no-color", "-C", str(tmp_path), "plan"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Using the embedded local API at http://127.0.0.1:")
    assert "Plan: 1 to upload." in done.stdout
    assert _gone(tmp_path / ".ftops" / "localapi")


def test_a_bad_manifest_stops_the_api_the_plan_started_early(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "f.yaml").write_text("apiVersion: ftops/v1\nkind: File\nmetadata: [unclosed\n")
    env = {k: v for k, v in os.environ.items() if k not in ("FTOPS_ENDPOINT", "CI", "MISTRAL_API_KEY")}
    done = subprocess.run([sys.executable, "-m", "ftops", "--no-color", "-C", str(tmp_path), "plan"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout
    assert "manifests/f.yaml:4:1: error[M003]: invalid YAML" in done.stderr
    assert _gone(tmp_path / ".ftops" / "localapi")


def _dataset(root: Path) -> Path:
    path = root / "train.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n')
    return path
