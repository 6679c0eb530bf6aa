"""Migration file → postgres → file with `ftops state push` / `state pull`, and the checks push makes."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import PostgresServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from apply_project import SECRET_KEY, ServeProcess, api_env, make_project, run_cli
from click.testing import CliRunner

from ftops.cli import cli


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess(tmp_path_factory.mktemp("api"))
    try:
        yield server
    finally:
        server.stop()


def test_migrate_file_to_postgres_and_back(
    pg_server: PostgresServer, serve: ServeProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path / "proj", tag="-mig")
    env = {**api_env(serve.url), "FTOPS_PG_URL": pg_server.url}
    monkeypatch.chdir(root)

    def ftops(*args: str) -> tuple[int, str]:
        if args[0] == "state":  # in-process: no interpreter start-up for the quick commands
            result = CliRunner().invoke(cli, list(args), env=env)
            code, out = result.exit_code, result.output
        else:
            done = run_cli(root, serve.url, *args, env=env)
            code, out = done.returncode, done.stdout + done.stderr
        assert SECRET_KEY not in out and "ftops-test-pw" not in out
        return code, out

    assert ftops("apply", "--auto-approve")[0] == 0  # today's file backend
    file_lock = json.loads((root / "ftops.lock").read_text())

    # file -> postgres: configure the backend, push the committed lock, stop tracking the file.
    (root / "ftops.toml").write_text(
        f'[backend]\ntype = "postgres"\nurl_env = "FTOPS_PG_URL"\nname = "mig-{uuid.uuid4().hex[:6]}"\n')
    code, out = ftops("state", "pull")
    assert code == 1 and "no state is stored yet" in out
    code, out = ftops("state", "push", "ftops.lock")
    assert code == 0 and f"serial {file_lock['serial']}" in out, out
    (root / "ftops.lock").rename(root / "old.lock")
    code, out = ftops("plan", "--detailed-exitcode")
    assert code == 0, out  # the plan reads the state from postgres: in sync
    assert not (root / "ftops.lock").exists()
    code, out = ftops("state", "push", "old.lock")
    assert code == 0 and "nothing pushed" in out, out

    # push refuses what would lose changes; --force overrides.
    older = {**file_lock, "serial": max(file_lock["serial"] - 1, 0)}
    (root / "older.lock").write_text(json.dumps(older))
    if older["serial"] < file_lock["serial"]:
        code, out = ftops("state", "push", "older.lock")
        assert code == 1 and "older than the backend's" in out and "--force" in out, out
    other = {**file_lock, "lineage": str(uuid.uuid4())}
    (root / "other.lock").write_text(json.dumps(other))
    code, out = ftops("state", "push", "other.lock")
    assert code == 1 and "another state (lineage" in out, out

    # postgres -> file: pull into ftops.lock, drop the backend table.
    code, pulled = ftops("state", "pull")
    assert code == 0 and json.loads(pulled)["lineage"] == file_lock["lineage"]
    (root / "ftops.lock").write_text(pulled)
    (root / "ftops.toml").write_text("")
    code, out = ftops("plan", "--detailed-exitcode")
    assert code == 0, out


def test_push_refuses_a_file_that_is_not_a_lock(
    pg_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ftops.toml").write_text('[backend]\ntype = "postgres"\nurl_env = "FTOPS_PG_URL"\nname = "junk"\n')
    (tmp_path / "junk.lock").write_text("{not json")
    result = CliRunner().invoke(cli, ["state", "push", "junk.lock"],
                                env={"FTOPS_PG_URL": pg_server.url})
    assert result.exit_code == 1 and "Traceback" not in result.output and "junk.lock" in result.output
