"""Together's files: the three-step upload, list, retrieve, delete and content, in the same SQLite store.

The official SDK uploads in three calls (``together/lib/resources/files.py``): ``POST /v1/files`` with form
fields ``purpose, file_name, file_type, checksum`` (sha256) and no bytes, answered ``302`` with ``Location``
(where to ``PUT`` the bytes) and ``X-Together-File-Id``; the ``PUT`` itself (sent without the API key, like
a presigned URL, so the URL carries a signature); then ``POST /v1/files/{id}/preprocess``, which answers the
file. A file with the same checksum and purpose already uploaded answers ``409 {"file_id": ...}`` instead,
and the SDK returns that file: uploads are de-duplicated by content, which is what makes them safe to retry.
Together file ids look like ``file-<uuid>``.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import uuid
from pathlib import Path
from typing import IO, Any

from ftops.datasets import validate_path
from ftops.localapi.config import Context


class TogetherError(Exception):
    """An error answer in Together's shape: ``{"error": {"message", "type", ...}}`` plus any top-level extras."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": None, "code": None}, **self.extra}


SCHEMA = """
CREATE TABLE IF NOT EXISTS together_files (
    id TEXT PRIMARY KEY, filename TEXT NOT NULL, purpose TEXT NOT NULL, file_type TEXT NOT NULL,
    checksum TEXT NOT NULL, created_at REAL NOT NULL, sha256 TEXT, bytes INTEGER NOT NULL DEFAULT 0,
    num_lines INTEGER, processed INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS together_files_by_checksum ON together_files (checksum, purpose, deleted);
CREATE TABLE IF NOT EXISTS together_jobs (
    id TEXT PRIMARY KEY, model TEXT NOT NULL, suffix TEXT, request TEXT NOT NULL, output_name TEXT NOT NULL,
    data_tokens INTEGER NOT NULL, eval_tokens INTEGER NOT NULL, total_steps INTEGER NOT NULL,
    data_message TEXT, created_at REAL NOT NULL, queued_at REAL NOT NULL, running_at REAL NOT NULL,
    data_ok INTEGER NOT NULL, compressing_at REAL NOT NULL, uploading_at REAL NOT NULL,
    completed_at REAL NOT NULL, cancel_requested_at REAL, cancelled_at REAL, deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS together_jobs_by_time ON together_jobs (created_at);
"""

PURPOSES = ("fine-tune", "calibration", "eval", "batch-api")
FILE_TYPES = ("jsonl", "parquet", "csv")
UPLOAD_PREFIX = "/together/_upload/"


def ensure_schema(ctx: Context) -> None:
    ctx.store.conn().executescript(SCHEMA)


def _signature(ctx: Context, file_id: str) -> str:
    key = f"{ctx.owner}:{ctx.config.api_key}".encode()
    return hmac.new(key, file_id.encode(), hashlib.sha256).hexdigest()[:32]


def not_found(file_id: str) -> TogetherError:
    return TogetherError(404, f"File {file_id} not found")


def render(row: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["id"], "object": "file", "bytes": row["bytes"], "created_at": int(row["created_at"]),
        "filename": row["filename"], "FileType": row["file_type"], "purpose": row["purpose"],
        "processing_status": "COMPLETED" if row["processed"] else "PENDING",
        "Processed": bool(row["processed"]), "LineCount": row["num_lines"] or 0,
    }
    if row["processed"]:
        out["validation_report"] = {"valid": True, "file_id": row["id"], "nlines": row["num_lines"] or 0}
    return out


def begin_upload(ctx: Context, *, base_url: str, purpose: str, file_name: str, file_type: str,
                 checksum: str) -> tuple[str, str]:
    """Step 1: ``(file_id, upload URL)`` for a new file, or a 409 naming the file with this content."""
    if purpose not in PURPOSES:
        raise TogetherError(400, f"Invalid purpose {purpose!r}")
    if file_type not in FILE_TYPES:
        raise TogetherError(400, f"Invalid file type {file_type!r}")
    with ctx.store.write() as w:
        same = w.execute("SELECT id FROM together_files WHERE checksum = ? AND purpose = ? AND deleted = 0"
                         " AND sha256 IS NOT NULL ORDER BY created_at LIMIT 1", (checksum, purpose)).fetchone()
        if same is not None:
            raise TogetherError(409, f"A file with this checksum already exists: {same[0]}",
                                "file_already_exists", extra={"file_id": same[0]})
        file_id = f"file-{uuid.uuid4()}"
        w.execute("INSERT INTO together_files (id, filename, purpose, file_type, checksum, created_at)"
                  " VALUES (?, ?, ?, ?, ?, ?)", (file_id, file_name, purpose, file_type, checksum, ctx.now()))
    return file_id, f"{base_url}{UPLOAD_PREFIX}{file_id}?signature={_signature(ctx, file_id)}"


def put_bytes(ctx: Context, file_id: str, signature: str, stream: IO[bytes]) -> None:
    """Step 2: the bytes, at the signed URL step 1 gave (no API key: the signature is the credential)."""
    if not hmac.compare_digest(signature, _signature(ctx, file_id)):
        raise TogetherError(403, "Invalid upload signature", "forbidden")
    row = get_row(ctx, file_id, uploaded=False)
    stored = ctx.store.put_blob(stream, limit=ctx.config.max_upload_bytes)
    if stored is None:
        raise TogetherError(413, f"Files are limited to {ctx.config.max_upload_bytes} bytes")
    sha, size = stored
    if sha != row["checksum"]:
        raise TogetherError(400, "The uploaded bytes do not match the checksum given")
    with ctx.store.write() as w:
        w.execute("UPDATE together_files SET sha256 = ?, bytes = ? WHERE id = ?", (sha, size, file_id))


def _count_lines(path: Path) -> int | None:
    try:
        return validate_path(path, count_tokens=False).total_lines
    except Exception:  # the data is judged when a job uses it; an upload is just bytes
        return None


def preprocess(ctx: Context, file_id: str) -> dict[str, Any]:
    """Step 3: the upload is complete; the file is listed from now on."""
    row = get_row(ctx, file_id, uploaded=False)
    if row["sha256"] is None:
        raise TogetherError(400, f"File {file_id} has no content yet")
    if not row["processed"]:
        lines = _count_lines(ctx.store.blob_path(row["sha256"]))
        with ctx.store.write() as w:
            w.execute("UPDATE together_files SET processed = 1, num_lines = ? WHERE id = ?", (lines, file_id))
        row = get_row(ctx, file_id)
    return render(row)


def get_row(ctx: Context, file_id: str, *, uploaded: bool = True) -> sqlite3.Row:
    row = ctx.store.conn().execute("SELECT * FROM together_files WHERE id = ? AND deleted = 0",
                                   (file_id,)).fetchone()
    if row is None or (uploaded and row["sha256"] is None):
        raise not_found(file_id)
    assert isinstance(row, sqlite3.Row)
    return row


def retrieve(ctx: Context, file_id: str) -> dict[str, Any]:
    return render(get_row(ctx, file_id))


def list_files(ctx: Context) -> dict[str, Any]:
    rows = ctx.store.conn().execute("SELECT * FROM together_files WHERE deleted = 0 AND sha256 IS NOT NULL"
                                    " ORDER BY created_at DESC, rowid DESC").fetchall()
    return {"object": "list", "data": [render(r) for r in rows]}


def delete(ctx: Context, file_id: str) -> dict[str, Any]:
    get_row(ctx, file_id, uploaded=False)
    with ctx.store.write() as w:
        w.execute("UPDATE together_files SET deleted = 1 WHERE id = ?", (file_id,))
    return {"id": file_id, "object": "file", "deleted": True}


def content_path(ctx: Context, file_id: str) -> Path:
    return ctx.store.blob_path(get_row(ctx, file_id)["sha256"])
