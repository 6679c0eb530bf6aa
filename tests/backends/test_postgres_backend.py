"""PostgreSQL specifics: the advisory lock frees a dead runner's lock, per-project keys, schema, redaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from servers import PostgresServer

from ftops.errors import RunLockHeld, StateError
from ftops.state.backends.postgres import PostgresBackend, advisory_key
from ftops.state.runlock import acquire, force_unlock

REPO = Path(__file__).resolve().parents[2]


def _holder_process(url: str, name: str) -> subprocess.Popen[str]:
    """Another process (another runner) that takes the run lock and then hangs, holding it."""
    code = textwrap.dedent(f"""
        import sys, time
        from ftops.state.backends.postgres import PostgresBackend
        from ftops.state.runlock import acquire
        held = acquire(PostgresBackend({url!r}, name={name!r}).run_lock_slot(), "apply", lease_seconds=600)
        print(held.id, flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO)
    return proc


def test_a_killed_runner_frees_its_lock_through_its_session(pg_server: PostgresServer) -> None:
    name = f"kill-{os.getpid()}-{time.time_ns()}"
    proc = _holder_process(pg_server.url, name)
    assert proc.stdout is not None
    dead_id = proc.stdout.readline().strip()
    try:
        with pytest.raises(RunLockHeld, match=dead_id):  # alive: never taken over, however old
            acquire(PostgresBackend(pg_server.url, name=name).run_lock_slot(), "apply")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    notes: list[str] = []
    deadline = time.monotonic() + 20
    while True:  # the server notices the dead connection at once on loopback (RST); allow a little slack
        try:
            held = acquire(PostgresBackend(pg_server.url, name=name).run_lock_slot(), "apply", notify=notes.append)
            break
        except RunLockHeld:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert held.took_over is not None and held.took_over.id == dead_id
    assert notes and dead_id in notes[0] and "took over" in notes[0]
    held.release()


def test_force_unlock_ends_a_stuck_holders_session(pg_server: PostgresServer) -> None:
    name = f"stuck-{time.time_ns()}"
    proc = _holder_process(pg_server.url, name)
    assert proc.stdout is not None
    stuck_id = proc.stdout.readline().strip()
    try:
        force_unlock(PostgresBackend(pg_server.url, name=name).run_lock_slot(), stuck_id)
        held = acquire(PostgresBackend(pg_server.url, name=name).run_lock_slot(), "apply")
        assert held.took_over is None
        held.release()
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_projects_do_not_share_a_lock(pg_server: PostgresServer) -> None:
    assert advisory_key("public", "a") != advisory_key("public", "b")
    assert advisory_key("public", "a") != advisory_key("other", "a")  # terraform#33217
    one = acquire(PostgresBackend(pg_server.url, name="proj-a").run_lock_slot(), "apply")
    two = acquire(PostgresBackend(pg_server.url, name="proj-b").run_lock_slot(), "apply")
    one.release()
    two.release()


def test_schema_is_created_and_versioned(pg_server: PostgresServer) -> None:
    backend = PostgresBackend(pg_server.url, name="schema-check", schema="ftops_v")
    assert backend.read() is None  # first use creates the schema and tables
    with backend.cursor() as cur:
        cur.execute("SELECT version FROM ftops_v.ftops_schema_version")
        assert [r[0] for r in cur.fetchall()] == [1]
        cur.execute("INSERT INTO ftops_v.ftops_schema_version VALUES (99)")
    newer = PostgresBackend(pg_server.url, name="schema-check", schema="ftops_v")
    with pytest.raises(StateError, match="version 99") as err:
        newer.read()
    assert "upgrade ftops" in err.value.render()


def test_errors_never_show_the_password(pg_server: PostgresServer) -> None:
    wrong = pg_server.url.replace("ftops-test-pw", "s3cr3t-wrong-pw")
    with pytest.raises(StateError) as err:
        PostgresBackend(wrong, name="x", url_env="FTOPS_PG_URL").read()
    text = err.value.render()
    assert "refused the credentials" in text and "$FTOPS_PG_URL" in text
    assert "s3cr3t-wrong-pw" not in text and "ftops-test-pw" not in text
    with pytest.raises(StateError) as err:
        PostgresBackend("postgresql://u:s3cr3t@127.0.0.1:9/db", name="x", url_env="FTOPS_PG_URL").read()
    text = err.value.render()
    assert "cannot reach the postgres backend" in text and "127.0.0.1:9/db" in text and "s3cr3t" not in text
