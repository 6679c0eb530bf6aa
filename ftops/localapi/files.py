"""Files: upload (de-duplicated by name + content), list with filters, retrieve, delete, download.

Uploads are stored by sha256; a second upload with the same name and bytes returns the existing file, as the
real service does. ``num_lines`` and ``sample_type`` come from the dataset validator (without token counts,
so uploads stay fast); full validation happens when a job uses the file.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import IO, Any

from ftops.datasets import validate_path
from ftops.localapi.config import Context, Problem

PURPOSES = ("fine-tune", "batch", "ocr", "agentic_safety", "audio")
_FIELDS = ("id, filename, bytes, sha256, created_at, purpose, sample_type, source, num_lines, mimetype, visibility,"
           " expires_at")
# The unit of upload ``expiry`` is undocumented; hours, like the signed URL's ``expiry``.
EXPIRY_UNIT_SECONDS = 3600


def render(row: sqlite3.Row, *, deleted: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["id"],
        "object": "file",
        "bytes": row["bytes"],
        "created_at": int(row["created_at"]),
        "filename": row["filename"],
        "purpose": row["purpose"],
        "sample_type": row["sample_type"],
        "source": row["source"],
        "num_lines": row["num_lines"],
        "mimetype": row["mimetype"],
        "signature": row["sha256"][:16],
        "expires_at": int(row["expires_at"]) if row["expires_at"] is not None else None,
        "visibility": row["visibility"],
    }
    if deleted is not None:
        out["deleted"] = deleted
    return out


def _describe(path: Path, purpose: str) -> tuple[int | None, str]:
    """(num_lines, sample_type) of an uploaded file; never fails the upload."""
    if purpose == "batch":
        return None, "batch_request"
    try:
        report = validate_path(path, count_tokens=False)
    except Exception:  # the validator's verdict matters at job time; an upload is just bytes
        return None, "instruct"
    return report.total_lines, report.sample_type


def upload(
    ctx: Context, *, filename: str, stream: IO[bytes], purpose: str | None, visibility: str | None,
    expiry: int | None = None,
) -> dict[str, Any]:
    purpose = purpose or "fine-tune"
    if purpose not in PURPOSES:
        raise Problem(422, f"Invalid purpose {purpose!r}; expected one of {', '.join(PURPOSES)}.")
    limit = ctx.config.max_upload_bytes
    stored = ctx.store.put_blob(stream, limit=limit)
    if stored is None:
        raise Problem(413, f"Request Entity Too Large: files are limited to {limit} bytes.")
    sha, size = stored
    db = ctx.store.conn()
    existing = db.execute(
        f"SELECT {_FIELDS} FROM files WHERE filename = ? AND sha256 = ? AND deleted = 0 LIMIT 1",
        (filename, sha),
    ).fetchone()
    if existing is not None:
        return render(existing)
    num_lines, sample_type = _describe(ctx.store.blob_path(sha), purpose)
    mimetype = "application/jsonl" if filename.lower().endswith(".jsonl") else "application/octet-stream"
    with ctx.store.write() as w:
        # Re-check inside the write lock: two identical concurrent uploads must yield one file.
        again = w.execute(
            f"SELECT {_FIELDS} FROM files WHERE filename = ? AND sha256 = ? AND deleted = 0 LIMIT 1",
            (filename, sha),
        ).fetchone()
        if again is not None:
            return render(again)
        file_id = str(uuid.uuid4())
        now = ctx.now()
        expires_at = now + expiry * EXPIRY_UNIT_SECONDS if expiry is not None else None
        w.execute(
            "INSERT INTO files (id, filename, bytes, sha256, created_at, purpose, sample_type, source,"
            " num_lines, mimetype, visibility, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'upload', ?, ?, ?, ?)",
            (file_id, filename, size, sha, now, purpose, sample_type, num_lines, mimetype,
             visibility or "workspace", expires_at),
        )
        row = w.execute(f"SELECT {_FIELDS} FROM files WHERE id = ?", (file_id,)).fetchone()
    return render(row)


def get_row(ctx: Context, file_id: str) -> sqlite3.Row:
    row = ctx.store.conn().execute(
        f"SELECT {_FIELDS} FROM files WHERE id = ? AND deleted = 0", (file_id,)
    ).fetchone()
    if row is None:
        raise Problem(404, f"File {file_id} not found.")
    assert isinstance(row, sqlite3.Row)
    return row


def retrieve(ctx: Context, file_id: str) -> dict[str, Any]:
    return render(get_row(ctx, file_id), deleted=False)


def delete(ctx: Context, file_id: str) -> dict[str, Any]:
    with ctx.store.write() as w:
        cur = w.execute("UPDATE files SET deleted = 1 WHERE id = ? AND deleted = 0", (file_id,))
        if cur.rowcount == 0:
            raise Problem(404, f"File {file_id} not found.")
    return {"id": file_id, "object": "file", "deleted": True}


def content_path(ctx: Context, file_id: str) -> tuple[Path, str]:
    row = get_row(ctx, file_id)
    return ctx.store.blob_path(row["sha256"]), row["filename"]


def _in(column: str, values: list[str] | None, where: list[str], args: list[Any]) -> None:
    if values:
        where.append(f"{column} IN ({', '.join('?' * len(values))})")
        args.extend(values)


def list_files(
    ctx: Context,
    *,
    page: int,
    page_size: int,
    search: str | None = None,
    purpose: str | None = None,
    sample_type: list[str] | None = None,
    source: list[str] | None = None,
    mimetypes: list[str] | None = None,
    include_total: bool = True,
) -> dict[str, Any]:
    where, args = ["deleted = 0"], []
    if search:
        where.append("instr(lower(filename), lower(?)) > 0")
        args.append(search)
    if purpose:
        where.append("purpose = ?")
        args.append(purpose)
    _in("sample_type", sample_type, where, args)
    _in("source", source, where, args)
    _in("mimetype", mimetypes, where, args)
    cond = " AND ".join(where)
    db = ctx.store.conn()
    total = db.execute(f"SELECT count(*) FROM files WHERE {cond}", args).fetchone()[0] if include_total else None
    rows = db.execute(
        f"SELECT {_FIELDS} FROM files WHERE {cond} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
        [*args, page_size, page * page_size],
    ).fetchall()
    return {"data": [render(r) for r in rows], "object": "list", "total": total}
