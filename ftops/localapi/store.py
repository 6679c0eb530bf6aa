"""SQLite state of the local API: files, jobs, fine-tuned model edits, cached validations, settings.

One connection per thread (FastAPI runs sync handlers in a thread pool), WAL journal so readers never block
the writer, and ``BEGIN IMMEDIATE`` for every write so concurrent clients serialize cleanly instead of
failing with "database is locked" half-way through a transaction. Committed writes survive a kill -9 of the
server (WAL + synchronous=NORMAL). Uploaded bytes live next to the database, one blob per sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, filename TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,
    created_at REAL NOT NULL, purpose TEXT NOT NULL, sample_type TEXT NOT NULL, source TEXT NOT NULL,
    num_lines INTEGER, mimetype TEXT, visibility TEXT, deleted INTEGER NOT NULL DEFAULT 0, expires_at REAL
);
CREATE INDEX IF NOT EXISTS files_by_time ON files (deleted, created_at);
CREATE INDEX IF NOT EXISTS files_by_content ON files (filename, sha256);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, model TEXT NOT NULL, job_type TEXT NOT NULL, auto_start INTEGER NOT NULL,
    suffix TEXT, fingerprint TEXT NOT NULL, request TEXT NOT NULL, validation TEXT NOT NULL,
    wandb_project TEXT, wandb_name TEXT,
    created_at REAL NOT NULL, validating_at REAL NOT NULL, validated_at REAL NOT NULL,
    validation_ok INTEGER NOT NULL, started_at REAL, success_at REAL,
    cancel_requested_at REAL, cancelled_at REAL, fine_tuned_model TEXT,
    running_at REAL, failed_at REAL, fail_fraction REAL, fail_reason TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_time ON jobs (created_at);
CREATE INDEX IF NOT EXISTS jobs_by_fingerprint ON jobs (fingerprint);
CREATE INDEX IF NOT EXISTS jobs_by_suffix ON jobs (suffix, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_model ON jobs (fine_tuned_model);
-- The models list reads only jobs with a model: without this it scans every job (3 ms at 10,000 jobs).
CREATE INDEX IF NOT EXISTS jobs_with_model ON jobs (success_at) WHERE fine_tuned_model IS NOT NULL;
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY, name TEXT, description TEXT, archived INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0, modified_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS validations (key TEXT PRIMARY KEY, report TEXT NOT NULL);
"""
# Columns added after the first release: a state directory written by an older ftops gets them on open.
_ADDED_COLUMNS = {
    "jobs": ("running_at REAL", "failed_at REAL", "fail_fraction REAL", "fail_reason TEXT"),
    "files": ("expires_at REAL",),
}


class Store:
    """The database and blob directory under one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.blob_dir = self.state_dir / "blobs"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.state_dir / "state.sqlite3"
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self.conn().executescript(SCHEMA)
        with self.write() as db:
            for table, columns in _ADDED_COLUMNS.items():
                have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                for column in columns:
                    if column.split()[0] not in have:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('owner', ?), ('clock_offset', '0')",
                (secrets.token_hex(4),),
            )

    # -- connections ---------------------------------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.db_path, isolation_level=None, check_same_thread=False, timeout=30.0)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
            with self._all_lock:
                self._all.append(db)
        return db

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken up front, so two writers never deadlock on a lock upgrade."""
        db = self.conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        with self._all_lock:
            for db in self._all:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
            self._all.clear()
        self._local = threading.local()

    # -- settings ------------------------------------------------------------------------------------
    def meta(self, key: str) -> str:
        row = self.conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else ""

    def clock_offset(self) -> float:
        return float(self.meta("clock_offset") or 0.0)

    def advance_clock(self, seconds: float) -> float:
        with self.write() as db:
            db.execute(
                "UPDATE meta SET value = CAST(CAST(value AS REAL) + ? AS TEXT) WHERE key = 'clock_offset'",
                (seconds,),
            )
            row = db.execute("SELECT value FROM meta WHERE key = 'clock_offset'").fetchone()
        return float(row[0])

    # -- blobs ---------------------------------------------------------------------------------------
    def put_blob(self, src: IO[bytes], *, limit: int) -> tuple[str, int] | None:
        """Copy an upload into the blob store; ``None`` when it is larger than ``limit`` bytes."""
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.blob_dir, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := src.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        return None
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            os.replace(tmp, self.blob_path(sha))
            return sha, size
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def blob_path(self, sha256: str) -> Path:
        return self.blob_dir / sha256
